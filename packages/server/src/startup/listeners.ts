/**
 * Checks, before anything is written (store, master key, admin key), that every listener can
 * bind its address: a start that fails on a port in use must leave the data dir as it found it.
 * All probes are held open together, so two listeners configured on one port are caught too. A
 * port taken between this check and the real listen still fails the start (a race this cannot
 * close), only later.
 */
import net from 'node:net';
import type { GatehouseConfig } from '../config/types.js';

export class ListenError extends Error {
  readonly code = 'ERR_LISTEN';
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

interface Listener {
  readonly name: 'public' | 'admin' | 'proxy';
  readonly host: string;
  readonly port: number;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another process, or another listener of this configuration)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
};

function bind(listener: Listener): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const shown = listener.host.includes(':') ? `[${listener.host}]` : listener.host;
      const reason = REASONS[error.code ?? ''] ?? error.message;
      reject(
        new ListenError(
          `cannot listen on ${shown}:${listener.port} for the ${listener.name} listener (${listener.name}.port): ${reason}; nothing was written`,
        ),
      );
    });
    probe.listen({ host: listener.host, port: listener.port }, () => resolve(probe));
  });
}

/** Throws a ListenError naming the first listener whose address cannot be bound. */
export async function assertListenersAvailable(config: GatehouseConfig, withProxy: boolean): Promise<void> {
  const all: Listener[] = [
    { name: 'public', host: config.public.host, port: config.public.port },
    { name: 'admin', host: config.admin.host, port: config.admin.port },
  ];
  if (withProxy) all.push({ name: 'proxy', host: config.proxy.host, port: config.proxy.port });
  const listeners = all.filter((listener) => listener.port !== 0);
  const bound: net.Server[] = [];
  try {
    for (const listener of listeners) bound.push(await bind(listener));
  } finally {
    await Promise.all(bound.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
