import type { IncomingMessage } from 'node:http';

/** What became of a request body the front end read before invoking. */
export type RequestBody =
  | { outcome: 'read'; body: Buffer }
  /** Over `maxBytes`: the rest was read and dropped. */
  | { outcome: 'too-large' }
  /** No byte for `idleTimeoutMs` (e.g. fewer bytes than Content-Length said). */
  | { outcome: 'stalled' }
  /** The client closed the connection first. */
  | { outcome: 'client-gone' };

export interface BodyLimits {
  maxBytes: number;
  /** How long the body may go without a byte. */
  idleTimeoutMs: number;
}

/** Reads `req` to its end, as the front end does before it invokes the function. */
export function readRequestBody(req: IncomingMessage, limits: BodyLimits): Promise<RequestBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => settle({ outcome: 'stalled' }), limits.idleTimeoutMs);
    const onData = (chunk: Buffer) => {
      timer.refresh();
      size += chunk.length;
      if (size <= limits.maxBytes) chunks.push(chunk);
    };
    const onEnd = () =>
      settle(
        size > limits.maxBytes
          ? { outcome: 'too-large' }
          : { outcome: 'read', body: Buffer.concat(chunks) },
      );
    // 'error' (ECONNRESET "aborted") or a bare 'close': either way the client left.
    const onGone = () => settle({ outcome: 'client-gone' });
    function settle(result: RequestBody) {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('close', onGone);
      resolve(result);
    }
    // Kept after settling: a late 'error' with no listener would crash the process.
    req.on('error', onGone);
    req.on('data', onData).on('end', onEnd).on('close', onGone);
  });
}
