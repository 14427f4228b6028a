import { createHash, randomUUID } from 'node:crypto';
import type { ImageDetail, ImageRecord } from '../core/models/image.js';
import type { User } from '../core/models/user.js';
import type { ImageRepository } from '../data/image-repository.js';
import type { ImageGenerator } from './image-generator.js';
import { findImage, imageNotFound, parseCreateInput, parseUpdateInput } from './image-input.js';
import { assertMayModifyImage } from './image-permissions.js';
import type { ImageStore } from './image-store.js';
import { silentLogger, type ServiceLogger } from './service-logger.js';
import { ImageVariants } from './thumbnails/image-variants.js';

const EXTENSIONS: Record<string, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp' };

export interface PrivateImageServiceDeps {
  images: ImageRepository;
  store: ImageStore;
  generator: ImageGenerator;
  log?: ServiceLogger;
  now?: () => Date;
}

/** Writes to the catalogue, on behalf of an authenticated user. */
export class PrivateImageService {
  readonly #images: ImageRepository;
  readonly #store: ImageStore;
  readonly #generator: ImageGenerator;
  readonly #log: ServiceLogger;
  readonly #now: () => Date;

  constructor(deps: PrivateImageServiceDeps) {
    this.#images = deps.images;
    this.#store = deps.store;
    this.#generator = deps.generator;
    this.#log = deps.log ?? silentLogger;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Generates, stores the bytes, then commits the row. The bytes are durable before the row exists,
   * and removed again if the row cannot be written: never a row without its bytes.
   */
  async create(author: User, input: unknown): Promise<ImageDetail> {
    const { prompt, tags } = parseCreateInput(input);
    const image = await this.#generator.generate(prompt);
    const guid = randomUUID();
    const filename = `${guid}${EXTENSIONS[image.contentType] ?? '.bin'}`;
    await this.#store.put(filename, image.bytes);
    try {
      return await this.#images.insert({
        guid,
        prompt,
        filename,
        tags,
        author: author.username,
        contentType: image.contentType,
        byteSize: image.bytes.length,
        sha256: createHash('sha256').update(image.bytes).digest('hex'),
        model: image.model,
        size: `${image.width}x${image.height}`,
        revisedPrompt: image.revisedPrompt,
        createdAt: this.#now().toISOString(),
      });
    } catch (error) {
      await this.#removeQuietly(filename);
      throw error;
    }
  }

  /**
   * Replaces the tag set of an image the actor may modify. `updated_at` becomes the service clock's
   * now, or one millisecond past the previous value when the clock has not moved on (two writes in
   * the same millisecond, or a clock stepped back), so every update visibly advances it.
   */
  async updateTags(actor: User, guid: string, input: unknown): Promise<ImageDetail> {
    const { tags } = parseUpdateInput(input);
    const { detail } = await this.#findModifiable(actor, guid);
    const updated = await this.#images.updateTags(detail.guid, tags, this.#nextUpdatedAt(detail.updated_at));
    // Deleted between the read and the write.
    if (updated === undefined) throw imageNotFound(guid);
    return updated;
  }

  /**
   * Removes the row, then the bytes. Once the row is gone the image is gone for every reader; bytes
   * that cannot be removed are logged and left to the orphan sweep rather than failing the request,
   * because restoring the row would be a second write that can fail too.
   */
  async delete(actor: User, guid: string): Promise<void> {
    const { detail } = await this.#findModifiable(actor, guid);
    if (!(await this.#images.deleteByGuid(detail.guid))) throw imageNotFound(guid);
    await this.#removeQuietly(detail.filename);
    // Thumbnails are kept beside the original; any left behind (a failure here, or one made while
    // this delete ran) has no row to belong to and goes with the orphan sweep.
    await Promise.all(ImageVariants.filenamesOf(detail.filename).map((name) => this.#removeVariantQuietly(name)));
  }

  async #removeVariantQuietly(filename: string): Promise<void> {
    try {
      await this.#store.remove(filename);
    } catch (error) {
      this.#log.warn({ err: error, filename }, 'could not remove a thumbnail; the orphan sweep will');
    }
  }

  async #findModifiable(actor: User, guid: string): Promise<ImageRecord> {
    const record = await findImage(this.#images, guid);
    assertMayModifyImage(actor, record.detail);
    return record;
  }

  #nextUpdatedAt(previous: string): string {
    const now = this.#now().getTime();
    return new Date(Math.max(now, Date.parse(previous) + 1)).toISOString();
  }

  async #removeQuietly(filename: string): Promise<void> {
    try {
      if (!(await this.#store.remove(filename))) this.#log.warn({ filename }, 'image bytes were already missing from the store');
    } catch (error) {
      this.#log.warn({ err: error, filename }, 'could not remove image bytes; the orphan sweep will');
    }
  }
}
