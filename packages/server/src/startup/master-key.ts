/**
 * Loads the master key and proves it is the one the store was created with. In embedded mode a
 * missing key is generated into `<data_dir>/master.key` (0600) with a warning; with PostgreSQL
 * (several instances, shared state) the operator must supply it. A wrong key stops the start with
 * a clear error instead of producing garbage later.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { createSealedBox, decodeMasterKey, type SealedBox, SealedBoxError } from '../core/secrets/sealed-box.js';
import type { MetaStore } from '../store/meta-repository.js';

const CHECK_KEY = 'master_key_check';
const CHECK_PURPOSE = 'gatehouse:master-key-check';
const CHECK_TEXT = 'gatehouse master key check v1';

export class MasterKeyError extends Error {
  readonly code = 'ERR_MASTER_KEY';
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export interface MasterKeyOptions {
  readonly configured: string | undefined;
  readonly embedded: boolean;
  readonly dataDir: string;
  readonly meta: MetaStore;
  readonly logger: Logger;
}

export async function loadMasterKey(options: MasterKeyOptions): Promise<SealedBox> {
  const box = createSealedBox(decodeMasterKey(resolveKeyText(options)));
  const stored = await options.meta.setIfAbsent(CHECK_KEY, box.seal(CHECK_TEXT, CHECK_PURPOSE));
  try {
    if (box.open(stored, CHECK_PURPOSE).toString('utf8') !== CHECK_TEXT) throw new SealedBoxError('check text differs');
  } catch (error) {
    if (!(error instanceof SealedBoxError)) throw error;
    throw new MasterKeyError(
      'the master key does not match the one this store was created with; supply the original key (GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE)',
    );
  }
  return box;
}

function resolveKeyText(options: MasterKeyOptions): string {
  if (options.configured) return options.configured;
  if (!options.embedded) {
    throw new MasterKeyError(
      'master_key: required with PostgreSQL; set GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE (`gatehouse secret` makes one)',
    );
  }
  const file = path.join(options.dataDir, 'master.key');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(text))
      throw new MasterKeyError(`${file} does not hold a 32-byte hex key; it was left untouched`);
    return text;
  }
  const text = randomBytes(32).toString('hex');
  // 'wx' fails if another process created the file in between: never overwrite a key.
  writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  options.logger.warn(
    { file },
    'generated a master key for the embedded store; in production supply your own with GATEHOUSE_MASTER_KEY_FILE and keep a backup',
  );
  return text;
}
