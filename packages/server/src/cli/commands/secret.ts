import { randomBytes } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';

/** Like `openssl rand -hex 32`: random bytes from the OS CSPRNG. */
export function registerSecret(program: Command): void {
  program
    .command('secret')
    .description('print a cryptographically random secret (default: 32 bytes, hex), e.g. for GATEHOUSE_MASTER_KEY')
    .option(
      '--bytes <n>',
      'number of random bytes (16-1024)',
      (value) => {
        const bytes = Number(value);
        if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024)
          throw new InvalidArgumentError('must be an integer from 16 to 1024');
        return bytes;
      },
      32,
    )
    .option(
      '--encoding <encoding>',
      'hex | base64url | base64',
      (value) => {
        if (!['hex', 'base64url', 'base64'].includes(value))
          throw new InvalidArgumentError('must be hex, base64url or base64');
        return value;
      },
      'hex',
    )
    .action((options: { bytes: number; encoding: BufferEncoding }) => {
      process.stdout.write(`${randomBytes(options.bytes).toString(options.encoding)}\n`);
    });
}
