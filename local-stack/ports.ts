import { createServer } from 'node:net';

/** A local emulator could not start because its TCP port is taken. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    readonly service: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Port ${port} is already in use, so ${service} cannot listen on it. ` +
        `Stop the process that holds it (find it with \`lsof -iTCP:${port} -sTCP:LISTEN\`) ` +
        'or choose another port for it.',
      options,
    );
  }
}

/**
 * Throws {@link PortInUseError} unless `port` can be bound on every interface,
 * which is how DynamoDB Local (Jetty) and fauxqs (0.0.0.0) listen. Port 0 is always free.
 */
export async function assertPortFree(port: number, service: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' ? new PortInUseError(port, service, { cause: error }) : error,
      );
    });
    // Without a host Node binds the dual-stack wildcard, which fails if any address holds the port.
    probe.listen({ port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A port that was free a moment ago (the OS picks it); for tests and ad-hoc stacks. */
export async function findFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
