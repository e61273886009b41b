/**
 * The local cloud's loopback ports: a port another process holds is reported by number and
 * role, with what to do about it, instead of an `EADDRINUSE` stack trace.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

/** Loopback address every server of the local cloud listens on. */
export const HOST = '127.0.0.1';

/** A port the local cloud needs is taken (by another `npm start`, most likely). */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly role: string,
  ) {
    super(
      `port ${port} (${role}) is already in use, probably by another 'npm start'. ` +
        `Stop that one, or start this one on other ports: PORT=<port> npm start (the gateway takes PORT, the emulators the next five).`,
    );
    this.name = 'PortInUseError';
  }
}

/** Listens on `port` of the loopback address (0: any free port); resolves with the port taken. */
export function listen(server: Server, port: number, role: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, role) : error);
    server.once('error', onError);
    server.listen(port, HOST, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Throws {@link PortInUseError} for the first of these ports that is taken, before anything
 * starts (port 0, picked freely, is never taken).
 */
export async function assertPortsFree(ports: readonly { readonly port: number; readonly role: string }[]): Promise<void> {
  for (const { port, role } of ports) {
    if (port === 0) continue;
    const probe = createServer();
    await listen(probe, port, role);
    await new Promise((resolve) => probe.close(resolve));
  }
}
