/**
 * A small real upstream for gateway and forward-auth tests. It records what it received and
 * behaves by path:
 * - `/hang…`   accepts the request and never answers;
 * - `/reset…`  destroys the connection without answering;
 * - `/cut…`    announces a 100-byte body, sends 10 bytes of it, then destroys the connection;
 * - `/stream…` answers in chunks, the last one only after the test calls `release()`;
 * - `/status/<code>…` answers with that status;
 * - anything else: 200 JSON `{ method, url, headers, body }` of what it received.
 * WebSocket upgrades on `/ws…` are accepted (echoing messages, reporting the request headers as
 * the first message); `/ws-refuse…` answers 403 instead of switching protocols.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly seen: SeenRequest[];
  /** How many TCP connections the upstream has accepted. */
  connections(): number;
  /** Ends the pending `/stream` answers. */
  release(): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const waiting: Array<() => void> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const url = received.url;
      if (url.startsWith('/hang')) {
        seen.push(received);
        return;
      }
      if (url.startsWith('/reset')) {
        seen.push(received);
        request.socket.destroy();
        return;
      }
      seen.push(received);
      if (url.startsWith('/cut')) {
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100', 'x-upstream': 'yes' });
        response.write('0123456789', () => setTimeout(() => request.socket.destroy(), 20));
        return;
      }
      if (url.startsWith('/stream')) {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('first chunk\n');
        waiting.push(() => response.end('last chunk\n'));
        return;
      }
      const status = /^\/status\/(\d{3})/.exec(url);
      const echo = JSON.stringify(received);
      response.writeHead(status ? Number(status[1]) : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(echo),
        connection: 'keep-alive, x-hop',
        'x-hop': 'only for this hop',
        'x-upstream': 'yes',
      });
      response.end(echo);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: '' });
    if (request.url?.startsWith('/ws-refuse')) {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\nrefused',
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.send(JSON.stringify({ headers: request.headers, url: request.url }));
      ws.on('message', (data, binary) => ws.send(data, { binary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    connections: () => connections,
    release: () => {
      for (const end of waiting.splice(0)) end();
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
