import type { Migration } from './migration.js';

// The usage ledger is not the image table: an image can be deleted, what it cost cannot. One row per
// generation the provider billed, keyed by the image's guid but with no foreign key to it. Money is an
// integer number of nano-dollars (BIGINT): exact sums, no floating point. Quotas hang off the user and
// go with it; a reservation holds a create's worst-case cost until its real cost is settled.
export const usageAndQuotas: Migration = {
  version: 4,
  name: 'image options, usage ledger, user quotas and quota reservations',
  sqlite: [
    'ALTER TABLE image ADD COLUMN quality TEXT',
    'ALTER TABLE image ADD COLUMN background TEXT',
    'ALTER TABLE image ADD COLUMN output_format TEXT',
    `CREATE TABLE usage_record (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      guid TEXT NOT NULL UNIQUE,
      username TEXT NOT NULL,
      model TEXT NOT NULL,
      input_tokens INTEGER NOT NULL,
      input_text_tokens INTEGER,
      input_image_tokens INTEGER,
      output_tokens INTEGER NOT NULL,
      output_text_tokens INTEGER,
      output_image_tokens INTEGER,
      total_tokens INTEGER NOT NULL,
      cost_nano_usd INTEGER NOT NULL,
      created_at TEXT NOT NULL
    )`,
    'CREATE INDEX usage_record_user_idx ON usage_record (username, created_at)',
    'CREATE INDEX usage_record_time_idx ON usage_record (created_at)',
    `CREATE TABLE user_quota (
      username TEXT NOT NULL PRIMARY KEY REFERENCES user (username) ON DELETE CASCADE,
      images_per_day INTEGER,
      usd_per_month_nano INTEGER,
      updated_at TEXT NOT NULL
    )`,
    `CREATE TABLE quota_reservation (
      id TEXT NOT NULL PRIMARY KEY,
      username TEXT NOT NULL,
      cost_nano_usd INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL
    )`,
    'CREATE INDEX quota_reservation_user_idx ON quota_reservation (username, expires_at)',
  ],
  mysql: [
    `ALTER TABLE image
      ADD COLUMN quality VARCHAR(16) NULL,
      ADD COLUMN background VARCHAR(16) NULL,
      ADD COLUMN output_format VARCHAR(8) NULL`,
    // NO PAD binary collations, as migration 002 gave the other tables: exact comparison, and the
    // foreign key to user (username) needs the same collation on both sides.
    `CREATE TABLE usage_record (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      guid CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      username VARCHAR(64) NOT NULL,
      model VARCHAR(100) NOT NULL,
      input_tokens INT UNSIGNED NOT NULL,
      input_text_tokens INT UNSIGNED NULL,
      input_image_tokens INT UNSIGNED NULL,
      output_tokens INT UNSIGNED NOT NULL,
      output_text_tokens INT UNSIGNED NULL,
      output_image_tokens INT UNSIGNED NULL,
      total_tokens INT UNSIGNED NOT NULL,
      cost_nano_usd BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY usage_record_guid_uq (guid),
      KEY usage_record_user_idx (username, created_at),
      KEY usage_record_time_idx (created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`,
    `CREATE TABLE user_quota (
      username VARCHAR(64) NOT NULL,
      images_per_day INT UNSIGNED NULL,
      usd_per_month_nano BIGINT UNSIGNED NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (username),
      CONSTRAINT user_quota_user_fk FOREIGN KEY (username) REFERENCES user (username) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`,
    `CREATE TABLE quota_reservation (
      id CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
      username VARCHAR(64) NOT NULL,
      cost_nano_usd BIGINT UNSIGNED NOT NULL,
      created_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      KEY quota_reservation_user_idx (username, expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`,
  ],
};
