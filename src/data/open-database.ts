import type { DatabaseConfig } from '../core/config.js';
import type { Database } from './database.js';
import { SqliteDatabase } from './sqlite-database.js';

/** Opens the configured engine. MySQL is loaded lazily so the SQLite default never pays for it. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'sqlite') return SqliteDatabase.open(config.file);
  const { MysqlDatabase } = await import('./mysql-database.js');
  return MysqlDatabase.open(config);
}
