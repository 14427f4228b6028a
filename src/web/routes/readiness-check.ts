import { DBConnectionError } from '../../core/errors.js';

/** What readiness asks of the database: the `ping()` of the data layer's `Database` port. */
export interface Pingable {
  ping(): Promise<void>;
}

/**
 * Answers GET /ready: whether the service can do its work right now, i.e. the database answers within
 * a deadline. @throws DBConnectionError (503 with Retry-After) when it does not.
 */
export class ReadinessCheck {
  constructor(
    private readonly db: Pingable,
    private readonly timeoutMs = 2000,
  ) {}

  async check(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DBConnectionError('The database did not answer in time')), this.timeoutMs);
    });
    try {
      await Promise.race([this.db.ping(), deadline]);
    } catch (error) {
      if (error instanceof DBConnectionError) throw error;
      throw new DBConnectionError('The database is not reachable', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
