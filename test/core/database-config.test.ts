import { describe, expect, it } from 'vitest';
import { describeDatabase, loadConfig } from '../../src/core/config.js';
import { ConfigurationError } from '../../src/core/errors.js';

describe('MySQL configuration', () => {
  it('reads DATABASE_URL with a percent-encoded password', () => {
    expect(loadConfig({ DATABASE_URL: 'mysql://app:p%40ss%3Aw0rd@db.internal:3307/pixy' }).database).toEqual({
      kind: 'mysql',
      host: 'db.internal',
      port: 3307,
      user: 'app',
      password: 'p@ss:w0rd',
      database: 'pixy',
      poolSize: 10,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 10_000,
    });
  });

  it('reads the DB_* variables when DATABASE_URL is absent', () => {
    const env = { DB_HOST: 'db.internal', DB_USER: 'app', DB_PASSWORD: 'secret', DB_NAME: 'pixy', DB_POOL_SIZE: '4', DB_QUERY_TIMEOUT_MS: '2500' };
    expect(loadConfig(env).database).toMatchObject({ kind: 'mysql', host: 'db.internal', port: 3306, user: 'app', password: 'secret', database: 'pixy', poolSize: 4, queryTimeoutMs: 2500 });
  });

  it('prefers DATABASE_URL over the DB_* variables', () => {
    expect(loadConfig({ DATABASE_URL: 'mysql://a@h1/d1', DB_HOST: 'h2', DB_NAME: 'd2' }).database).toMatchObject({ host: 'h1', database: 'd1' });
  });

  it('refuses DB_HOST without DB_NAME, naming the variable', () => {
    expect(() => loadConfig({ DB_HOST: 'db.internal' })).toThrow(new ConfigurationError('DB_NAME is required when DB_HOST is set'));
  });

  it('refuses a query timeout that is not a number, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://a@h/d', DB_QUERY_TIMEOUT_MS: 'soon' })).toThrow(/DB_QUERY_TIMEOUT_MS/);
  });

  it('masks the password when describing the database for the log', () => {
    const described = describeDatabase(loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db.internal:3306/pixy' }).database);
    expect(described).toBe('mysql://app:***@db.internal:3306/pixy');
  });
});
