import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FunctionUrl,
  type InvocationReport,
  startFunctionUrl,
} from '../../../local-stack/lambda-runtime/function-url.js';
import { deferred, hasStackTrace, logLines } from './support.js';

let functionUrl: FunctionUrl | undefined;
afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

/** Opens a connection to `url` and sends `text` as is. */
function openAndSend(url: string, text: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => socket.write(text));
  socket.on('error', () => {});
  return socket;
}

const leaveWith = {
  FIN: (socket: Socket) => socket.destroy(),
  RST: (socket: Socket) => socket.resetAndDestroy(),
};

describe('a client that aborts a streaming response mid-way', () => {
  it.each(Object.keys(leaveWith) as (keyof typeof leaveWith)[])(
    'leaves no stack trace in the log, and the handler streams on as before (%s)',
    async (how) => {
      const { log, lines } = logLines();
      const clientLeft = deferred();
      const ended = deferred<InvocationReport>();
      const handlerSaw = deferred<{ writeFailed: boolean; destroyed: boolean }>();
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
        stream.write('before');
        await clientLeft.promise;
        const writeError = await new Promise<Error | null | undefined>((resolve) =>
          stream.write('after the client left', resolve),
        );
        handlerSaw.resolve({ writeFailed: Boolean(writeError), destroyed: stream.destroyed });
        stream.end();
      });
      functionUrl = await startFunctionUrl({
        functionName: 'chat',
        timeoutMs: 10_000,
        handler,
        log,
        onClientDisconnect: () => clientLeft.resolve(),
        onInvocationEnd: ended.resolve,
      });

      const socket = openAndSend(
        functionUrl.url,
        'GET /v1/chat HTTP/1.1\r\nhost: localhost\r\n\r\n',
      );
      socket.once('data', () => leaveWith[how](socket));

      // As on AWS, the handler is not told: its write succeeds and its stream stays open.
      expect(await handlerSaw.promise).toEqual({ writeFailed: false, destroyed: false });
      expect(await ended.promise).toMatchObject({
        outcome: 'succeeded',
        clientDisconnected: true,
        discardedBytes: Buffer.byteLength('after the client left'),
      });
      expect(lines.filter(hasStackTrace)).toEqual([]);
    },
  );
});

describe('a client that leaves before its request body has arrived', () => {
  it('leaves no stack trace in the log and invokes nothing', async () => {
    const { log, lines } = logLines();
    let invoked = false;
    const idleTimeoutMs = 300;
    functionUrl = await startFunctionUrl({
      functionName: 'chat',
      timeoutMs: 10_000,
      bodyIdleTimeoutMs: idleTimeoutMs,
      log,
      handler: awslambda.streamifyResponse(async (_event, responseStream) => {
        invoked = true;
        responseStream.end();
      }),
    });

    const socket = openAndSend(
      functionUrl.url,
      'POST /v1/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n{"mess',
    );
    await sleep(50);
    socket.destroy();
    // Past the body's idle timeout: whatever the emulator does about the lost body, it has done.
    await sleep(idleTimeoutMs * 2);

    expect(lines.filter(hasStackTrace)).toEqual([]);
    expect(invoked).toBe(false);
  });
});
