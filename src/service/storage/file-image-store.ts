import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, opendir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange, ImageStore, StoredFile, StoredTemporary } from './image-store.js';

// Filenames are generated from guids; anything else (a path separator, "..") is refused outright.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TEMP_PREFIX = '.tmp-';
const TEMP_NAME = /^\.tmp-[A-Za-z0-9-]{1,64}$/;

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ENOENT';
}

/**
 * Images as files in one directory (IMAGE_DIR); the key is the filename. Writes go to a temp file, are
 * fsynced, then renamed into place. For one instance only: other machines cannot see these files.
 */
export class FileImageStore implements ImageStore {
  readonly kind = 'file';
  #ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  keyFor(filename: string): string {
    this.#path(filename);
    return filename;
  }

  /** The directory exists (it is created on first use) and this process may write to it. */
  async ping(): Promise<void> {
    await this.#ensureDir();
    await access(this.dir, fsConstants.W_OK);
  }

  #path(filename: string): string {
    if (!SAFE_NAME.test(filename) || filename.startsWith(TEMP_PREFIX)) throw new Error(`unsafe image filename: ${filename}`);
    return join(this.dir, filename);
  }

  #ensureDir(): Promise<unknown> {
    this.#ready ??= mkdir(this.dir, { recursive: true });
    return this.#ready;
  }

  async put(filename: string, bytes: Uint8Array): Promise<void> {
    const target = this.#path(filename);
    await this.#ensureDir();
    const temp = join(this.dir, `${TEMP_PREFIX}${randomUUID()}`);
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    // The rename itself must reach the disk before the row that points at it commits.
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }

  async open(filename: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const handle = await open(this.#path(filename), 'r');
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async stat(filename: string): Promise<StoredFile | undefined> {
    try {
      const info = await stat(this.#path(filename));
      return { size: info.size, modifiedAt: info.mtime };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async remove(filename: string): Promise<boolean> {
    try {
      await unlink(this.#path(filename));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<string> {
    await this.#ensureDir();
    for await (const entry of await opendir(this.dir)) {
      if (entry.isFile() && SAFE_NAME.test(entry.name) && !entry.name.startsWith(TEMP_PREFIX)) yield entry.name;
    }
  }

  async *listTemporary(): AsyncIterable<StoredTemporary> {
    await this.#ensureDir();
    for await (const entry of await opendir(this.dir)) {
      if (!entry.isFile() || !entry.name.startsWith(TEMP_PREFIX)) continue;
      try {
        const info = await stat(join(this.dir, entry.name));
        yield { name: entry.name, modifiedAt: info.mtime };
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
  }

  async removeTemporary(name: string): Promise<boolean> {
    if (!TEMP_NAME.test(name)) throw new Error(`not a temporary file: ${name}`);
    try {
      await unlink(join(this.dir, name));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
