-- pixyproxy on MySQL 8 / MariaDB 10.6+: step 3 of 3, run as an administrator against the database.
--   mariadb -u root -p pixyproxy < sql/mysql/03-create-tables.sql
--
-- The same schema as the migrations in src/data/migrations/ (001 to 004, 006 and 007), which the tests
-- check by comparing information_schema for a database built each way. The last statement records
-- those versions in the migration ledger, so the application's start-up migration step skips them.
--
-- Text is compared exactly, as on SQLite: the NO PAD binary collations (utf8mb4_nopad_bin,
-- ascii_nopad_bin) make 'bob ' differ from 'bob', which the PAD SPACE utf8mb4_bin would not.
-- These collations are MariaDB's (10.2 and later); see the README (MySQL / MariaDB) for MySQL 8.
--
-- Each image row names where its bytes are (migration 003): object_store is `file` or `s3`, object_key
-- the file name or the S3 key (prefix included).
--
-- Tags live twice: as a JSON array on the image row, so a read is one row, and in image_tag with the
-- listing key (created_at, guid) and the author copied in, so a tag-filtered page (with or without an
-- author filter) is one index range scan.

CREATE TABLE user (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  is_admin TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_username_uq (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE image (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  guid CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  prompt TEXT NOT NULL,
  filename VARCHAR(255) NOT NULL,
  object_store VARCHAR(16) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL DEFAULT 'file',
  object_key VARCHAR(512) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  tags TEXT NOT NULL,
  author VARCHAR(64) NOT NULL,
  content_type VARCHAR(100) NOT NULL,
  byte_size BIGINT UNSIGNED NOT NULL,
  sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  model VARCHAR(100) NULL,
  size VARCHAR(20) NULL,
  revised_prompt TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  quality VARCHAR(16) NULL,
  background VARCHAR(16) NULL,
  output_format VARCHAR(8) NULL,
  -- prompt and revised prompt for GET /image?q=, in a case- and accent-insensitive NO PAD collation (migration 005)
  search_text TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_nopad_ci NULL,
  PRIMARY KEY (id),
  UNIQUE KEY image_guid_uq (guid),
  UNIQUE KEY image_filename_uq (filename),
  UNIQUE KEY image_object_uq (object_store, object_key),
  KEY image_listing_idx (created_at, guid),
  KEY image_author_listing_idx (author, created_at, guid),
  FULLTEXT KEY image_search_ft (search_text)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE image_tag (
  image_id BIGINT UNSIGNED NOT NULL,
  tag VARCHAR(64) NOT NULL,
  author VARCHAR(64) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  guid CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  PRIMARY KEY (image_id, tag),
  KEY image_tag_listing_idx (tag, created_at, guid),
  KEY image_tag_author_listing_idx (author, tag, created_at, guid),
  CONSTRAINT image_tag_image_fk FOREIGN KEY (image_id) REFERENCES image (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- The usage ledger: one row per billed generation, kept when the image is deleted. Money in nano-dollars.
CREATE TABLE usage_record (
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE user_quota (
  username VARCHAR(64) NOT NULL,
  images_per_day INT UNSIGNED NULL,
  usd_per_month_nano BIGINT UNSIGNED NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (username),
  CONSTRAINT user_quota_user_fk FOREIGN KEY (username) REFERENCES user (username) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE quota_reservation (
  id CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  username VARCHAR(64) NOT NULL,
  cost_nano_usd BIGINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY quota_reservation_user_idx (username, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- API keys (migration 006): only a SHA-256 of each token is stored; a key goes with its user.
CREATE TABLE api_key (
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Migration 007: Idempotency-Key of POST /image, one row per (user, key), kept 24 hours.
CREATE TABLE idempotency_key (
  username VARCHAR(64) NOT NULL,
  idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  request_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  job_id CHAR(36) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL,
  failure TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (username, idempotency_key),
  KEY idempotency_key_expiry_idx (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE schema_migration (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO schema_migration (version, name, applied_at)
VALUES (1, 'initial schema: user, image, image_tag', UTC_TIMESTAMP(3)),
  (2, 'exact text comparison: NO PAD binary collations on MySQL', UTC_TIMESTAMP(3)),
  (3, 'image bytes location: object_store, object_key', UTC_TIMESTAMP(3)),
  (4, 'image options, usage ledger, user quotas and quota reservations', UTC_TIMESTAMP(3)),
  (5, 'prompt search: image_fts (SQLite FTS5) / image.search_text FULLTEXT (MySQL)', UTC_TIMESTAMP(3)),
  (6, 'api keys', UTC_TIMESTAMP(3)),
  (7, 'idempotency keys of POST /image', UTC_TIMESTAMP(3));
