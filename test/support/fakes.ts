import { Readable } from 'node:stream';
import { ConstraintViolationError } from '../../src/core/errors.js';
import type { ApiKey } from '../../src/core/models/api-key.js';
import type { ContentInfo, ImageStoreKind, NewImage, ObjectLocation, StoredImage } from '../../src/core/models/image.js';
import type { User, UserWithSecret } from '../../src/core/models/user.js';
import type { ApiKeyRepository, ApiKeyWithOwner, NewApiKey } from '../../src/data/api-key-repository.js';
import type { ImageLocationRow, ImageRepository, ListPageQuery, ListPageResult } from '../../src/data/image-repository.js';
import type { NewUser, UserRepository } from '../../src/data/user-repository.js';
import type { GeneratedImage, ImageGenerator } from '../../src/service/generation/index.js';
import { ImageStorage, type ByteRange, type ImageStore, type StoredFile, type StoredTemporary } from '../../src/service/storage/index.js';
import { PNG_SIGNATURE } from './factories.js';

/** Newest first, ties broken by guid descending: the order the SQL repository promises. */
function newestFirst(a: StoredImage, b: StoredImage): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.guid < b.guid ? 1 : a.guid > b.guid ? -1 : 0;
}

/** An in-memory ImageRepository with the same contract as the SQL one; it stores the model type as it is. */
export class InMemoryImageRepository implements ImageRepository {
  readonly records = new Map<string, StoredImage>();
  /** Every query listPage received, to check what the service passed down. */
  readonly listQueries: ListPageQuery[] = [];
  /** When set, insert throws it instead of storing anything. */
  failInsertWith: Error | undefined;

  async insert(image: NewImage): Promise<StoredImage> {
    if (this.failInsertWith) throw this.failInsertWith;
    if (this.records.has(image.guid)) throw new ConstraintViolationError('duplicate guid');
    const stored: StoredImage = { ...structuredClone(image), updated_at: image.created_at };
    this.records.set(image.guid, stored);
    return structuredClone(stored);
  }

  async findByGuid(guid: string): Promise<StoredImage | undefined> {
    const record = this.records.get(guid);
    return record && structuredClone(record);
  }

  async findContentInfo(guid: string): Promise<ContentInfo | undefined> {
    const record = this.records.get(guid);
    if (record === undefined) return undefined;
    const { filename, content_type, byte_size, sha256, created_at, object_store, object_key } = record;
    return { guid, filename, content_type, byte_size, sha256, created_at, object_store, object_key };
  }

  async listPage(query: ListPageQuery): Promise<ListPageResult> {
    this.listQueries.push(query);
    const after = query.after;
    const matching = [...this.records.values()]
      .filter((d) => query.tag === undefined || d.tags.includes(query.tag))
      .filter((d) => query.author === undefined || d.author === query.author)
      .filter((d) => after === undefined || newestFirst(d, { ...d, created_at: after.createdAt, guid: after.guid }) > 0)
      .sort(newestFirst);
    const images = matching.slice(0, query.limit).map((d) => structuredClone(d));
    const last = images.at(-1);
    if (matching.length <= query.limit || last === undefined) return { images };
    return { images, nextKey: { createdAt: last.created_at, guid: last.guid } };
  }

  async updateTags(guid: string, tags: readonly string[], updatedAt: string): Promise<StoredImage | undefined> {
    const current = this.records.get(guid);
    if (current === undefined) return undefined;
    const updated = { ...current, tags: [...tags], updated_at: updatedAt };
    this.records.set(guid, updated);
    return structuredClone(updated);
  }

  async deleteByGuid(guid: string): Promise<boolean> {
    return this.records.delete(guid);
  }

  async existingObjectKeys(store: ImageStoreKind, keys: readonly string[]): Promise<Set<string>> {
    const stored = new Set([...this.records.values()].filter((image) => image.object_store === store).map((image) => image.object_key));
    return new Set(keys.filter((key) => stored.has(key)));
  }

  async locationOf(guid: string): Promise<ObjectLocation | undefined> {
    const image = this.records.get(guid);
    return image && { object_store: image.object_store, object_key: image.object_key };
  }

  async listNotInStore(store: ImageStoreKind, afterGuid: string | undefined, limit: number): Promise<ImageLocationRow[]> {
    return [...this.records.values()]
      .filter((image) => image.object_store !== store && (afterGuid === undefined || image.guid > afterGuid))
      .sort((a, b) => (a.guid < b.guid ? -1 : 1))
      .slice(0, limit)
      .map((image) => ({
        guid: image.guid,
        filename: image.filename,
        sha256: image.sha256,
        location: { object_store: image.object_store, object_key: image.object_key },
      }));
  }

  async moveLocation(guid: string, from: ObjectLocation, to: ObjectLocation): Promise<boolean> {
    const image = this.records.get(guid);
    if (image === undefined || image.object_store !== from.object_store || image.object_key !== from.object_key) return false;
    this.records.set(guid, { ...image, ...to });
    return true;
  }

  async countByStore(): Promise<Partial<Record<ImageStoreKind, number>>> {
    const counts: Partial<Record<ImageStoreKind, number>> = {};
    for (const image of this.records.values()) counts[image.object_store] = (counts[image.object_store] ?? 0) + 1;
    return counts;
  }
}

/** An in-memory UserRepository that counts lookups, so tests can see what the service asked for. */
export class InMemoryUserRepository implements UserRepository {
  readonly rows = new Map<string, UserWithSecret>();
  lookups = 0;
  /** When set, a lookup reads the row at once but answers only after this settles (a slow read). */
  delayLookupsUntil: Promise<void> | undefined;

  async findByUsername(username: string): Promise<UserWithSecret | undefined> {
    this.lookups += 1;
    const row = this.rows.get(username);
    const snapshot = row && structuredClone(row);
    if (this.delayLookupsUntil) await this.delayLookupsUntil;
    return snapshot;
  }

  async insert(user: NewUser): Promise<User> {
    if (this.rows.has(user.username)) throw new ConstraintViolationError('username taken');
    const stored: User = { username: user.username, is_admin: user.isAdmin, created_at: user.createdAt };
    this.rows.set(user.username, { user: stored, passwordHash: user.passwordHash });
    return { ...stored };
  }

  async list(): Promise<User[]> {
    return [...this.rows.values()].map((r) => ({ ...r.user })).sort((a, b) => a.username.localeCompare(b.username));
  }

  async count(): Promise<number> {
    return this.rows.size;
  }

  async updatePassword(username: string, passwordHash: string): Promise<boolean> {
    const row = this.rows.get(username);
    if (row === undefined) return false;
    row.passwordHash = passwordHash;
    return true;
  }

  async deleteByUsername(username: string): Promise<boolean> {
    return this.rows.delete(username);
  }
}

/** Image bytes in a Map; `files` is what a test inspects to prove nothing was left behind. */
export class InMemoryImageStore implements ImageStore {
  readonly kind = 'file';
  readonly files = new Map<string, Buffer>();
  readonly modifiedAt = new Date();

  keyFor(filename: string): string {
    return filename;
  }

  async ping(): Promise<void> {}

  async put(filename: string, bytes: Uint8Array): Promise<void> {
    this.files.set(filename, Buffer.from(bytes));
  }

  async open(filename: string, range?: ByteRange): Promise<Readable | undefined> {
    const bytes = this.files.get(filename);
    if (bytes === undefined) return undefined;
    return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
  }

  async stat(filename: string): Promise<StoredFile | undefined> {
    const bytes = this.files.get(filename);
    return bytes && { size: bytes.length, modifiedAt: this.modifiedAt };
  }

  async remove(filename: string): Promise<boolean> {
    return this.files.delete(filename);
  }

  async *list(): AsyncIterable<string> {
    yield* this.files.keys();
  }

  // Writes are atomic in memory, so there are never temporary leftovers.
  async *listTemporary(): AsyncIterable<StoredTemporary> {}

  async removeTemporary(): Promise<boolean> {
    return false;
  }
}

/** The storage door over one in-memory store, as services receive it. */
export function inMemoryStorage(store: InMemoryImageStore = new InMemoryImageStore()): ImageStorage {
  return new ImageStorage([store], 'file');
}

/** Bytes that start like a PNG and differ per prompt; enough for services, which never decode them. */
export function fakePngBytes(prompt: string): Buffer {
  return Buffer.concat([PNG_SIGNATURE, Buffer.from(prompt, 'utf8')]);
}

/** A generator that records the prompts it was given and can be told to fail. */
export class FakeImageGenerator implements ImageGenerator {
  readonly name = 'fake';
  readonly prompts: string[] = [];
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;

  /** Makes every generation wait until the returned function is called (to catch a job running). */
  hold(): () => void {
    let release: () => void = () => {};
    this.#gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  async generate(prompt: string): Promise<GeneratedImage> {
    this.prompts.push(prompt);
    if (this.#gate) await this.#gate;
    if (this.failWith) throw this.failWith;
    return { bytes: fakePngBytes(prompt), contentType: 'image/png' as const, extension: 'png' as const, width: 8, height: 8, model: 'fake', revisedPrompt: null, quality: null, background: null, outputFormat: 'png' as const, usage: null };
  }
}

/** A generator that always throws `error`, for the web layer's failure paths. */
export function failingGenerator(error: Error): ImageGenerator {
  return {
    name: 'failing',
    generate: async () => {
      throw error;
    },
  };
}

/** An in-memory ApiKeyRepository over an InMemoryUserRepository, with the SQL repository's contract. */
export class InMemoryApiKeyRepository implements ApiKeyRepository {
  readonly #keys = new Map<string, { key: ApiKey; username: string; tokenHash: string }>();

  constructor(private readonly users: InMemoryUserRepository) {}

  async insert(key: NewApiKey): Promise<ApiKey | undefined> {
    if (!this.users.rows.has(key.username)) return undefined;
    if (this.#keys.has(key.id) || [...this.#keys.values()].some((k) => k.tokenHash === key.tokenHash)) {
      throw new ConstraintViolationError('duplicate key');
    }
    const stored: ApiKey = {
      id: key.id,
      label: key.label,
      prefix: key.prefix,
      created_at: key.createdAt,
      expires_at: key.expiresAt,
      revoked_at: null,
      last_used_at: null,
    };
    this.#keys.set(key.id, { key: stored, username: key.username, tokenHash: key.tokenHash });
    return { ...stored };
  }

  async findByTokenHash(tokenHash: string): Promise<ApiKeyWithOwner | undefined> {
    const found = [...this.#keys.values()].find((k) => k.tokenHash === tokenHash);
    return found && this.#withOwner(found);
  }

  async findById(id: string): Promise<ApiKeyWithOwner | undefined> {
    const found = this.#keys.get(id);
    return found && this.#withOwner(found);
  }

  async listByUsername(username: string): Promise<ApiKey[]> {
    return [...this.#keys.values()]
      .filter((k) => k.username === username && this.users.rows.has(username))
      .map((k) => ({ ...k.key }))
      .sort((a, b) => (a.created_at === b.created_at ? a.id.localeCompare(b.id) : a.created_at < b.created_at ? 1 : -1));
  }

  async revoke(id: string, revokedAt: string): Promise<boolean> {
    const found = this.#keys.get(id);
    if (found === undefined || found.key.revoked_at !== null) return false;
    found.key.revoked_at = revokedAt;
    return true;
  }

  async recordLastUsed(id: string, usedAt: string): Promise<void> {
    const found = this.#keys.get(id);
    if (found !== undefined && (found.key.last_used_at === null || found.key.last_used_at < usedAt)) found.key.last_used_at = usedAt;
  }

  #withOwner(found: { key: ApiKey; username: string; tokenHash: string }): ApiKeyWithOwner | undefined {
    // Keys go with their user, as ON DELETE CASCADE does in SQL.
    const owner = this.users.rows.get(found.username)?.user;
    return owner && { key: { ...found.key }, owner: { ...owner }, tokenHash: found.tokenHash };
  }
}
