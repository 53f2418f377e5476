/** Runs the built `gatehouse` CLI as a child process, as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openServerLog, recordSecret } from './secret-scan.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without the caller's GATEHOUSE_* variables, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GATEHOUSE_')));
  return { ...base, ...env };
}

export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Starts `gatehouse serve` in the background and resolves once it logs that it is ready. */
export function spawnServer(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string; ready: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], {
      cwd: options.cwd,
      env: cleanEnv({ GATEHOUSE_LOG_FORMAT: 'json', ...options.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // The server's JSON log lines go to a file of the run for the secret scan (./secret-scan.ts);
    // the one-time admin key banner (stderr) and demo credentials (plain text) are meant to be shown.
    const log = openServerLog('serve');
    recordSecret('admin_key', options.env?.GATEHOUSE_ADMIN_KEY);
    recordSecret('master_key', options.env?.GATEHOUSE_MASTER_KEY);
    let pending = '';
    child.stdout?.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{')) log?.write(`${line}\n`);
    });
    child.on('exit', () => {
      if (pending.startsWith('{')) log?.write(`${pending}\n`);
      log?.close();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${stdout}\n${stderr}`));
    }, 20_000);
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (!line.includes('gatehouse is ready')) continue;
        clearTimeout(timer);
        resolve({ child, stdout: () => stdout, stderr: () => stderr, ready: JSON.parse(line) });
        return;
      }
    });
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

/** Resolves with the exit code (and the time it took) once the child exits. */
export function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve({ code: child.exitCode, signal: null });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
