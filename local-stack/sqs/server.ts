import { assertPortFree, PortInUseError } from '../ports.js';
import { refuseWhatSqsRefuses } from './refusal-hooks.js';

export interface SqsEmulatorOptions {
  /** TCP port; 0 lets the OS choose one. */
  port: number;
  /** Region in the queue ARNs and URLs. @default 'us-east-1' */
  region?: string;
}

export interface SqsEmulator {
  /** `http://127.0.0.1:PORT`: pass it as `endpoint` to every SQSClient (see queues.ts). */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs, an in-process SQS emulator that speaks the AWS JSON 1.0 protocol of the
 * current SDK and implements long polling, visibility timeouts, receive counts and DLQ
 * redrive like SQS, with the sends SQS refuses and fauxqs would take refused in front of it
 * (refused-messages.ts). It keeps nothing across restarts: recreate queues after starting it.
 */
export async function startSqsEmulator(options: SqsEmulatorOptions): Promise<SqsEmulator> {
  await assertPortFree(options.port, 'the SQS emulator');
  // fauxqs is ESM-only.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, defaultRegion: options.region ?? 'us-east-1' });
  refuseWhatSqsRefuses(app);
  const address = await app
    .listen({ port: options.port, host: '0.0.0.0' })
    .catch((error: NodeJS.ErrnoException) => {
      // Taken between the check and the bind.
      if (error.code === 'EADDRINUSE')
        throw new PortInUseError(options.port, 'the SQS emulator', { cause: error });
      throw error;
    });
  return {
    endpoint: `http://127.0.0.1:${new URL(address).port}`,
    stop: () => app.close(),
  };
}
