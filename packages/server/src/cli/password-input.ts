/**
 * Reading a password for the CLI without it ever being a command-line argument (which `ps` and
 * shell history would show): from standard input with `--password-stdin`, or typed at a
 * terminal prompt that does not echo.
 */
import { CliError, EXIT } from './exit-codes.js';

/** Everything on stdin, minus one trailing line break (what `echo` or a here-string adds). */
export async function readPasswordFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text.length === 0) throw new CliError('--password-stdin: standard input was empty', EXIT.usage);
  return text;
}

/**
 * Prompts on the terminal with echo off (raw mode): the typed characters are never written back.
 * Backspace deletes, Ctrl-U clears, Enter ends, Ctrl-C or Ctrl-D on an empty line cancels.
 */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  // Echo off before the question appears: anything typed after seeing it must not be echoed.
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  output.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (outcome: () => void) => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(value));
        if (char === '\u0003' || (char === '\u0004' && value === '')) {
          return finish(() => reject(new CliError('cancelled', EXIT.failed)));
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char === '\u0015') value = '';
        else if (char >= ' ') value += char;
      }
    };
    input.on('data', onData);
  });
}

/**
 * The new password for `user create` / `user passwd`: stdin with `--password-stdin`, else typed
 * twice at a hidden prompt; without a terminal and without the flag, a usage error.
 */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readPasswordFromStdin();
  if (!process.stdin.isTTY) {
    throw new CliError(
      'no terminal to prompt for the password on: pipe it in with --password-stdin (never pass it as an argument)',
      EXIT.usage,
    );
  }
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new CliError('the passwords do not match', EXIT.usage);
  if (first.length === 0) throw new CliError('the password is empty', EXIT.usage);
  return first;
}
