import { createHash, randomUUID } from 'node:crypto';
import type { ImageDetail } from '../core/models/image.js';
import type { User } from '../core/models/user.js';
import type { ImageRepository } from '../data/image-repository.js';
import type { ImageGenerator } from './image-generator.js';
import { parseCreateInput } from './image-input.js';
import type { ImageStore } from './image-store.js';
import { silentLogger, type ServiceLogger } from './service-logger.js';

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

  async #removeQuietly(filename: string): Promise<void> {
    try {
      await this.#store.remove(filename);
    } catch (error) {
      this.#log.warn({ err: error, filename }, 'could not remove image bytes; the orphan sweep will');
    }
  }
}
