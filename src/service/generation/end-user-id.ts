import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The Images API's `user` field: a stable identifier per author that lets the provider monitor abuse
 * per end user (OpenAI, "Safety best practices: end-user IDs") while the author's name never leaves.
 * HMAC-SHA-256 (RFC 2104) of the username under a server secret, hex: stable across restarts and
 * instances that share the secret, not reversible without it, and no two authors share one.
 */
export class EndUserIds {
  readonly #secret: Buffer;

  /** @param secret at least 32 bytes. @throws RangeError when shorter. */
  constructor(secret: Buffer) {
    if (secret.length < 32) throw new RangeError('the end-user id secret must be at least 32 bytes');
    this.#secret = secret;
  }

  /** 64 lowercase hex characters for `author`. */
  of(author: string): string {
    return createHmac('sha256', this.#secret).update(author, 'utf8').digest('hex');
  }
}

/** The file in DATA_DIR holding the generated secret when END_USER_ID_SECRET is not set. */
export const END_USER_ID_SECRET_FILE = 'end-user-id-secret';

/**
 * The secret from configuration, else from `file`, else a new random 32-byte secret written to `file`
 * (mode 0600, like the initial admin password) so identifiers stay stable across restarts.
 * @throws the file system's error when the file can be neither read nor created.
 */
export async function loadOrCreateEndUserSecret(configured: string | undefined, file: string): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32);
  await mkdir(dirname(file), { recursive: true });
  try {
    // `wx`: two processes starting at once on one DATA_DIR must not each write a different secret.
    await writeFile(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    throw error;
  }
  await chmod(file, 0o600);
  return secret;
}
