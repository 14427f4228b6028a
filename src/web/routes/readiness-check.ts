import { DBConnectionError, ObjectStoreUnavailableError } from '../../core/errors.js';

/** What readiness asks of the database: the `ping()` of the data layer's `Database` port. */
export interface Pingable {
  ping(): Promise<void>;
}

/**
 * Answers GET /ready: whether the service can do its work right now, i.e. the database answers and
 * the image stores are usable (the S3 bucket exists and these credentials may use it), each within a
 * deadline. @throws DBConnectionError or ObjectStoreUnavailableError (503 with Retry-After) when not.
 */
export class ReadinessCheck {
  constructor(
    private readonly db: Pingable,
    private readonly stores: Pingable = { ping: async () => {} },
    private readonly timeoutMs = 2000,
  ) {}

  async check(): Promise<void> {
    await this.#within(this.db, 'The database', DBConnectionError);
    await this.#within(this.stores, 'The image store', ObjectStoreUnavailableError);
  }

  async #within(part: Pingable, what: string, Failure: typeof DBConnectionError | typeof ObjectStoreUnavailableError): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Failure(`${what} did not answer in time`)), this.timeoutMs);
    });
    try {
      await Promise.race([part.ping(), deadline]);
    } catch (error) {
      if (error instanceof Failure) throw error;
      throw new Failure(`${what} is not reachable`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
