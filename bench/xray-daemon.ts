import { createSocket } from 'node:dgram';

/** A UDP socket where the X-Ray daemon listens on Lambda: it counts what the function sends. */
export interface XRayDaemon {
  /** host:port, for AWS_XRAY_DAEMON_ADDRESS. */
  address: string;
  /** Segment documents received so far (one per datagram). */
  documents(): number;
  close(): Promise<void>;
}

export async function startXRayDaemon(): Promise<XRayDaemon> {
  const socket = createSocket('udp4');
  let documents = 0;
  socket.on('message', () => {
    documents += 1;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    documents: () => documents,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/**
 * What Lambda's environment holds for a function with active tracing, as far as Powertools
 * Tracer and the X-Ray SDK read it. One trace header for the process, sampled: every turn
 * is traced and sent, the worst case (Lambda samples the first request each second and 5%
 * of the rest by default).
 */
export function tracedLambdaEnvironment(
  daemon: Pick<XRayDaemon, 'address'>,
): Record<string, string> {
  return {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: '/var/task',
    POWERTOOLS_TRACE_ENABLED: 'true',
    AWS_XRAY_DAEMON_ADDRESS: daemon.address,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    _X_AMZN_TRACE_ID: 'Root=1-6b0cb0bb-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1',
  };
}
