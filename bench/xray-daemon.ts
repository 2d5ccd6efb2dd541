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
