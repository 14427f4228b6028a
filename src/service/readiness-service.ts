import { DBConnectionError } from '../core/errors.js';
import type { Database } from '../data/database.js';

/** Answers whether the service can do its work right now: the database answers within a deadline. */
export class ReadinessService {
  constructor(
    private readonly db: Pick<Database, 'ping'>,
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
