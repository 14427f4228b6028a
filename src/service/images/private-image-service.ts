import { createHash, randomUUID } from 'node:crypto';
import { ConstraintViolationError } from '../../core/errors.js';
import { imageDetailOf, type ImageDetail, type ObjectLocation, type StoredImage } from '../../core/models/image.js';
import type { User } from '../../core/models/user.js';
import { silentLogger, type ServiceLogger } from '../../core/service-logger.js';
import type { ImageRepository } from '../../data/image-repository.js';
import { resolveImageOptions, type ImageGenerator, type ImageOptions, type ModelPolicy, type EndUserIds } from '../generation/index.js';
import type { MeteringService, Reservation } from '../metering/index.js';
import { ImageVariants, type ImageStorage } from '../storage/index.js';
import type { CreateImageCommand, UpdateTagsCommand } from './image-commands.js';
import { findImage, imageNotFound } from './image-lookup.js';
import { assertMayModifyImage } from './image-permissions.js';

/** Without a configured policy (unit tests): the built-in generator's rules. */
const LOCAL_POLICY: ModelPolicy = { defaultModel: 'local', allowedModels: ['local'] };

export interface PrivateImageServiceDeps {
  images: ImageRepository;
  /** Writes go to the configured store; deletes to the store each row names. */
  storage: ImageStorage;
  generator: ImageGenerator;
  /** Which models a create may name, and the default (OPENAI_IMAGE_MODEL, OPENAI_IMAGE_MODELS). */
  models?: ModelPolicy;
  /** Usage ledger and quotas; the composition root always passes it. Without it nothing is metered. */
  metering?: MeteringService;
  /** The end-user ids sent to the provider as `user`; absent for the local generator. */
  endUserIds?: EndUserIds;
  log?: ServiceLogger;
  now?: () => Date;
}

/** Writes to the catalogue, on behalf of an authenticated user. */
export class PrivateImageService {
  readonly #images: ImageRepository;
  readonly #storage: ImageStorage;
  readonly #generator: ImageGenerator;
  readonly #models: ModelPolicy;
  readonly #metering: MeteringService | undefined;
  readonly #endUserIds: EndUserIds | undefined;
  readonly #log: ServiceLogger;
  readonly #now: () => Date;

  constructor(deps: PrivateImageServiceDeps) {
    this.#images = deps.images;
    this.#storage = deps.storage;
    this.#generator = deps.generator;
    this.#models = deps.models ?? LOCAL_POLICY;
    this.#metering = deps.metering;
    this.#endUserIds = deps.endUserIds;
    this.#log = deps.log ?? silentLogger;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * The checks of a create that need no provider call, run before its generation job is accepted so
   * that an asynchronous create (`Prefer: respond-async`) is refused with the same 4xx as a
   * synchronous one: the options for the chosen model, then the worst-case cost held against the
   * author's quotas (docs/API.md, "POST /image").
   * @param at JSON Pointer of the object holding the options, for the paths of refusals (`/body`).
   * @returns the hold for `create` to settle (undefined without metering; `id` undefined when the
   *   author has no quotas, so nothing is held). Give it to `withdraw` if the job is not accepted.
   * @throws DataValidationError (400) for options the model does not take, before anything is held;
   *   QuotaExceededError (429) with Retry-After; DBConnectionError (503)
   */
  /** The options of a create for its model, as `admit` checks them first. @throws DataValidationError (400) */
  checkOptions(command: CreateImageCommand, at = '/body'): void {
    resolveImageOptions(command.options, command.prompt, this.#models, at);
  }

  async admit(author: User, command: CreateImageCommand, at = '/body'): Promise<Reservation | undefined> {
    const options = resolveImageOptions(command.options, command.prompt, this.#models, at);
    return this.#metering?.reserve(author.username, options, command.prompt);
  }

  /** Lifts the hold of an admitted create whose job was not accepted. Never throws: an unlifted hold expires by itself. */
  async withdraw(reservation: Reservation | undefined): Promise<void> {
    if (reservation === undefined || this.#metering === undefined) return;
    await this.#metering.release(reservation).catch((error: unknown) =>
      this.#log.warn({ err: error }, 'could not release a quota reservation; it expires by itself'),
    );
  }

  /**
   * POST /image (run as a generation job; any route that creates one image for a user): checks the
   * options for the chosen model, holds the worst-case cost against the author's quotas (or, for a
   * create `admit` checked, keeps the hold it took), generates, settles the real cost into the usage
   * ledger, stores the bytes, then commits the row naming where they are (store and key). The store
   * has acknowledged the bytes before the row exists, and they are removed again if the row cannot be
   * written: never a row without its bytes.
   *
   * With a guid (the job's id) the create is idempotent: when the image already exists it is returned
   * without generating, and a second run for the same guid (a job recovered after its worker died)
   * writes its bytes under the same key, settles the same hold and inserts at most one row.
   * @param at JSON Pointer of the object holding the options, for the paths of refusals (`/body`).
   * @param admitted the hold `admit` took when the job was accepted; absent: taken here.
   * @throws DataValidationError (400) for options the model does not take, before anything is held or
   *   called; QuotaExceededError (429); whatever the generator throws (422/502/503/504); ObjectStoreUnavailableError (503, no row
   *   written); DBConnectionError (503)
   */
  async create(
    author: User,
    command: CreateImageCommand,
    guid: string = randomUUID(),
    at = '/body',
    admitted?: { reservation: Reservation | undefined },
  ): Promise<ImageDetail> {
    const done = await this.#images.findByGuid(guid);
    if (done !== undefined) return imageDetailOf(done);
    let options: ImageOptions;
    let reservation: Reservation | undefined;
    try {
      options = resolveImageOptions(command.options, command.prompt, this.#models, at);
      reservation =
        admitted === undefined
          ? await this.#metering?.reserve(author.username, options, command.prompt)
          : admitted.reservation && (await this.#metering?.renew(admitted.reservation, guid, options, command.prompt));
    } catch (error) {
      // An admitted job that will not generate (its options no longer pass on this instance, or its
      // lapsed hold no longer fits) lifts the hold it was accepted with.
      await this.withdraw(admitted?.reservation);
      throw error;
    }
    const image = await this.#generate(author, command.prompt, options, reservation);
    const size = `${image.width}x${image.height}`;
    if (reservation !== undefined) {
      // The provider has billed this image: it goes into the ledger now, before the bytes are stored,
      // so a later failure (store, database) cannot lose what was spent.
      // Priced by the model the request named (the one the provider was asked for and bills).
      await this.#metering!.settle(reservation, { guid, model: options.model, size, quality: image.quality ?? options.quality, usage: image.usage });
    }
    const filename = `${guid}.${image.extension}`;
    const location = await this.#storage.put(filename, image.bytes);
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
        ...location,
        model: image.model,
        size,
        revised_prompt: image.revisedPrompt,
        quality: image.quality,
        background: image.background,
        output_format: image.outputFormat,
        created_at: this.#now().toISOString(),
      });
      return imageDetailOf(stored);
    } catch (error) {
      // Another run of the same job committed first: its row is the one image of this guid.
      const winner = error instanceof ConstraintViolationError ? await this.#images.findByGuid(guid) : undefined;
      if (winner !== undefined) return imageDetailOf(winner);
      await this.#removeQuietly(location);
      throw error;
    }
  }

  async #generate(author: User, prompt: string, options: ImageOptions, reservation: Reservation | undefined) {
    const user = this.#endUserIds?.of(author.username);
    try {
      return await this.#generator.generate(prompt, { options, ...(user !== undefined && { user }) });
    } catch (error) {
      // Nothing was generated, so nothing was billed: lift the hold. If that fails too, the hold
      // expires by itself; the client hears about the generation failure, not this one.
      if (reservation !== undefined) {
        await this.#metering!.release(reservation).catch((releaseError: unknown) =>
          this.#log.warn({ err: releaseError }, 'could not release a quota reservation; it expires by itself'),
        );
      }
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
    // Thumbnails are kept beside the original, in its store. When the store refused the original, it
    // will refuse them too: they are left, like the original, to the orphan sweep, which removes any
    // variant whose original has no row (also one made while this delete ran).
    if (await this.#removeQuietly(current)) await this.#removeVariantsQuietly(current);
  }

  async #removeVariantsQuietly(original: ObjectLocation): Promise<void> {
    const results = await Promise.allSettled(ImageVariants.locationsOf(original).map((variant) => this.#storage.remove(variant)));
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0) {
      this.#log.warn(
        { err: failed[0]!.reason, store: original.object_store, key: original.object_key, failed: failed.length },
        'could not remove thumbnails; the orphan sweep will',
      );
    }
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

  /** False when the store failed (the failure is logged); true when the bytes are gone. */
  async #removeQuietly({ object_store, object_key }: ObjectLocation): Promise<boolean> {
    const where = { store: object_store, key: object_key };
    try {
      if (!(await this.#storage.remove({ object_store, object_key }))) this.#log.warn(where, 'image bytes were already missing from the store');
      return true;
    } catch (error) {
      this.#log.warn({ err: error, ...where }, 'could not remove image bytes; the orphan sweep will');
      return false;
    }
  }
}
