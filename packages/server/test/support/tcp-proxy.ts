/**
 * A TCP forwarder the test can cut and restore, to make a real PostgreSQL "go away" and come back
 * without touching the shared server.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Closes the listener and every open connection: the store becomes unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      server.close(() => resolve());
    });
  return {
    port,
    cut,
    restore: async () => {
      await listen(port);
    },
    close: cut,
  };
}

/**
 * A fresh PostgreSQL database reached through a TCP forwarder the test can cut: the store "goes
 * away" for real without touching the shared server. Pass `serverUrl` to `startTestServer`.
 */
export async function postgresBehindProxy(): Promise<{
  proxy: TcpProxy;
  serverUrl: string;
  drop(): Promise<void>;
}> {
  const { createTestDatabase } = await import('./databases.js');
  const database = await createTestDatabase('postgres');
  const target = new URL(database.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return {
    proxy,
    serverUrl: viaProxy.toString(),
    async drop() {
      await proxy.close();
      await database.drop();
    },
  };
}
