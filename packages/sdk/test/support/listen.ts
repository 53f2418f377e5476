/** Listens on an ephemeral loopback port and gives back the base URL and a close that drops keep-alive sockets. */
import { once } from 'node:events';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export async function listen(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Serves a Fetch-API handler (`(Request) => Response`) over real HTTP with @hono/node-server. */
export async function serveFetch(handler: (request: Request) => Response | Promise<Response>) {
  return listen(serve({ fetch: handler, port: 0, hostname: '127.0.0.1' }) as unknown as http.Server);
}
