import type { Migration } from './migration.js';

// Only a SHA-256 of each token is stored (hex, unique: the bearer lookup is one index probe). The key
// id is random and separate from the token, so listing or revoking a key never involves the secret.
// A key belongs to a user row and goes with it: keys must not outlive the account they act for.
export const apiKeys: Migration = {
  version: 6,
  name: 'api keys',
  sqlite: [
    `CREATE TABLE api_key (
      id TEXT NOT NULL PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
      token_hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      label TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      revoked_at TEXT,
      last_used_at TEXT
    )`,
    'CREATE INDEX api_key_user_idx ON api_key (user_id, created_at)',
  ],
  mysql: [
    `CREATE TABLE api_key (
      id CHAR(16) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      user_id BIGINT UNSIGNED NOT NULL,
      token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      prefix VARCHAR(16) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      label VARCHAR(200) NULL,
      created_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NULL,
      revoked_at DATETIME(3) NULL,
      last_used_at DATETIME(3) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY api_key_token_hash_uq (token_hash),
      KEY api_key_user_idx (user_id, created_at),
      CONSTRAINT api_key_user_fk FOREIGN KEY (user_id) REFERENCES user (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`,
  ],
};
