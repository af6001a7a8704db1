import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts a test's local HTTP server (a provider, a webhook receiver) on a free loopback port; answers its base URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops it, dropping kept-alive connections so the close does not wait for them. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
