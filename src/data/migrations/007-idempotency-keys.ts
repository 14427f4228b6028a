import type { Migration } from './migration.js';

// One row per (user, Idempotency-Key) on POST /image, kept 24 hours (expires_at). job_id names the
// generation job the first request started; the image it makes has that same id as its guid, so a
// replay finds the image even when the job record is gone. failure holds a finished job's error (as
// JSON: class, message, field errors) so it replays too; NULL while the job runs and after a success
// (the image row is the response then).
export const idempotencyKeys: Migration = {
  version: 7,
  name: 'idempotency keys of POST /image',
  sqlite: [
    `CREATE TABLE idempotency_key (
      username TEXT NOT NULL,
      idempotency_key TEXT NOT NULL,
      request_sha256 TEXT NOT NULL,
      job_id TEXT NOT NULL,
      failure TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      PRIMARY KEY (username, idempotency_key)
    )`,
    'CREATE INDEX idempotency_key_expiry_idx ON idempotency_key (expires_at)',
  ],
  mysql: [
    `CREATE TABLE idempotency_key (
      username VARCHAR(64) NOT NULL,
      idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      request_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      job_id CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      failure TEXT NULL,
      created_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      PRIMARY KEY (username, idempotency_key),
      KEY idempotency_key_expiry_idx (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`,
  ],
};
