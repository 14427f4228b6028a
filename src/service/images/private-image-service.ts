import { createHash, randomUUID } from 'node:crypto';
import { imageDetailOf, type ImageDetail, type StoredImage } from '../../core/models/image.js';
import type { User } from '../../core/models/user.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import type { ImageRepository } from '../../data/image-repository.js';
import type { ImageGenerator } from '../generation/index.js';
import type { ImageStore } from '../storage/index.js';
import type { CreateImageCommand, UpdateTagsCommand } from './image-commands.js';
import { findImage, imageNotFound } from './image-lookup.js';
import { assertMayModifyImage } from './image-permissions.js';

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
   * POST /image: generates, stores the bytes, then commits the row. The bytes are durable before the
   * row exists, and removed again if the row cannot be written: never a row without its bytes.
   * @throws whatever the generator throws (422/502/503/504), DBConnectionError (503)
   */
  async create(author: User, command: CreateImageCommand): Promise<ImageDetail> {
    const image = await this.#generator.generate(command.prompt);
    const guid = randomUUID();
    const filename = `${guid}${EXTENSIONS[image.contentType] ?? '.bin'}`;
    await this.#store.put(filename, image.bytes);
    try {
      const stored = await this.#images.insert({
        guid,
        prompt: command.prompt,
        filename,
        tags: command.tags,
        author: author.username,
        content_type: image.contentType,
        byte_size: image.bytes.length,
        sha256: createHash('sha256').update(image.bytes).digest('hex'),
        model: image.model,
        size: `${image.width}x${image.height}`,
        revised_prompt: image.revisedPrompt,
        created_at: this.#now().toISOString(),
      });
      return imageDetailOf(stored);
    } catch (error) {
      await this.#removeQuietly(filename);
      throw error;
    }
  }

  /**
   * PATCH /image/{guid}: replaces the tag set of an image the actor may modify. `updated_at` becomes
   * the service clock's now, or one millisecond past the previous value when the clock has not moved
   * on (two writes in the same millisecond, or a clock stepped back), so every update visibly advances it.
   * @throws RecordNotFoundError (404), OperationNotAllowedError (403)
   */
  async updateTags(actor: User, guid: string, command: UpdateTagsCommand): Promise<ImageDetail> {
    const current = await this.#findModifiable(actor, guid);
    const updated = await this.#images.updateTags(current.guid, command.tags, this.#nextUpdatedAt(current.updated_at));
    // Deleted between the read and the write.
    if (updated === undefined) throw imageNotFound(guid);
    return imageDetailOf(updated);
  }

  /**
   * DELETE /image/{guid}: removes the row, then the bytes. Once the row is gone the image is gone for
   * every reader; bytes that cannot be removed are logged and left to the orphan sweep rather than
   * failing the request, because restoring the row would be a second write that can fail too.
   * @throws RecordNotFoundError (404), OperationNotAllowedError (403)
   */
  async delete(actor: User, guid: string): Promise<void> {
    const current = await this.#findModifiable(actor, guid);
    if (!(await this.#images.deleteByGuid(current.guid))) throw imageNotFound(guid);
    await this.#removeQuietly(current.filename);
  }

  async #findModifiable(actor: User, guid: string): Promise<StoredImage> {
    const image = await findImage(this.#images, guid);
    assertMayModifyImage(actor, image);
    return image;
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
