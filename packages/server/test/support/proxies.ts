/**
 * Real nginx and Caddy (Debian's binaries, installed by .ci/run) started from the configs in
 * examples/, on ephemeral ports, with every file they write inside a temp dir. Each runs as a
 * single foreground process (nginx with `master_process off`), so stopping it is one signal, and
 * a safety net kills it if the test process exits first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './databases.js';

export const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

export interface RunningProxy {
  readonly url: string;
  /** What the proxy wrote to stdout and stderr, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The addresses the example configs name, and what to put in their place. */
export interface ProxyPorts {
  /** Where the example listens (8080). */
  readonly listen: number;
  /** Gatehouse's public listener (4000 in the examples). */
  readonly gatehouse: number;
  /** The app (5000 in the examples). */
  readonly app: number;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The example config with its ports replaced. */
export function exampleConfig(file: string, ports: ProxyPorts): string {
  return readFileSync(path.join(EXAMPLES, file), 'utf8')
    .replaceAll('127.0.0.1:4000', `127.0.0.1:${ports.gatehouse}`)
    .replaceAll('127.0.0.1:5000', `127.0.0.1:${ports.app}`)
    .replace(/listen 8080;/, `listen 127.0.0.1:${ports.listen};`)
    .replace(/^:8080 \{/m, `http://127.0.0.1:${ports.listen} {`);
}

export async function startNginx(ports: ProxyPorts): Promise<RunningProxy> {
  const dir = tempDir('gatehouse-nginx-');
  // Debian's nginx has absolute temp and log paths compiled in: point them into the temp dir.
  const local = [
    `client_body_temp_path ${dir.path}/body;`,
    `proxy_temp_path ${dir.path}/proxy;`,
    `fastcgi_temp_path ${dir.path}/fastcgi;`,
    `uwsgi_temp_path ${dir.path}/uwsgi;`,
    `scgi_temp_path ${dir.path}/scgi;`,
    `access_log ${dir.path}/access.log;`,
  ].join('\n  ');
  const config = exampleConfig('nginx/nginx.conf', ports).replace(/^http \{/m, `http {\n  ${local}`);
  const file = path.join(dir.path, 'nginx.conf');
  writeFileSync(file, config);
  return launch(
    'nginx',
    [
      '-p',
      dir.path,
      '-c',
      file,
      '-e',
      path.join(dir.path, 'error.log'),
      '-g',
      `daemon off; master_process off; pid ${dir.path}/nginx.pid;`,
    ],
    ports.listen,
    dir,
    () => readOptional(path.join(dir.path, 'error.log')),
  );
}

export async function startCaddy(ports: ProxyPorts): Promise<RunningProxy> {
  const dir = tempDir('gatehouse-caddy-');
  const file = path.join(dir.path, 'Caddyfile');
  writeFileSync(file, exampleConfig('caddy/Caddyfile', ports));
  return launch('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], ports.listen, dir, () => '', {
    HOME: dir.path,
    XDG_DATA_HOME: dir.path,
    XDG_CONFIG_HOME: dir.path,
  });
}

function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function launch(
  command: string,
  args: string[],
  port: number,
  dir: { path: string; remove(): void },
  extraOutput: () => string,
  env: Record<string, string> = {},
): Promise<RunningProxy> {
  const child = spawn(command, args, {
    cwd: dir.path,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };
  try {
    await waitForPort(port, child);
  } catch (error) {
    await stop();
    throw new Error(`${command} did not start: ${(error as Error).message}\n${output}\n${extraOutput()}`);
  }
  return { url: `http://127.0.0.1:${port}`, output: () => `${output}\n${extraOutput()}`, stop };
}

/** Resolves once `port` accepts connections; rejects if the process exits first or after 10 s. */
function waitForPort(port: number, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    let done = false;
    child.once('exit', (code) => {
      if (!done) {
        done = true;
        reject(new Error(`exited with ${code}`));
      }
    });
    const attempt = () => {
      if (done) return;
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done = true;
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) {
          done = true;
          reject(new Error(`port ${port} never accepted a connection`));
        } else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}
