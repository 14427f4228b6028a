-- pixyproxy on MySQL 8 / MariaDB 10.6+: step 3 of 3, run as an administrator against the database.
--   mariadb -u root -p pixyproxy < sql/mysql/03-create-tables.sql
--
-- The same schema as the migrations in src/data/migrations/, which the tests check by comparing
-- information_schema for a database built each way. The last statement records every version this
-- script covers in the migration ledger, so the application's start-up migration step skips them.
--
-- Tags live twice: as a JSON array on the image row, so a read is one row, and in image_tag with the
-- listing key (created_at, guid) and the author copied in, so a tag-filtered page (with or without an
-- author filter) is one index range scan.

CREATE TABLE user (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  is_admin TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_username_uq (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE image (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  guid CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  prompt TEXT NOT NULL,
  filename VARCHAR(255) NOT NULL,
  tags TEXT NOT NULL,
  author VARCHAR(64) NOT NULL,
  content_type VARCHAR(100) NOT NULL,
  byte_size BIGINT UNSIGNED NOT NULL,
  sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  model VARCHAR(100) NULL,
  size VARCHAR(20) NULL,
  revised_prompt TEXT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY image_guid_uq (guid),
  UNIQUE KEY image_filename_uq (filename),
  KEY image_listing_idx (created_at, guid),
  KEY image_author_listing_idx (author, created_at, guid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE image_tag (
  image_id BIGINT UNSIGNED NOT NULL,
  tag VARCHAR(64) NOT NULL,
  author VARCHAR(64) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  guid CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (image_id, tag),
  KEY image_tag_listing_idx (tag, created_at, guid),
  KEY image_tag_author_listing_idx (author, tag, created_at, guid),
  CONSTRAINT image_tag_image_fk FOREIGN KEY (image_id) REFERENCES image (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- API keys (migration 006): only a SHA-256 of each token is stored; a key goes with its user.
CREATE TABLE api_key (
  id CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  prefix VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  label VARCHAR(200) NULL,
  created_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NULL,
  revoked_at DATETIME(3) NULL,
  last_used_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY api_key_token_hash_uq (token_hash),
  KEY api_key_user_idx (user_id, created_at),
  CONSTRAINT api_key_user_fk FOREIGN KEY (user_id) REFERENCES user (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE schema_migration (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO schema_migration (version, name, applied_at)
VALUES (1, 'initial schema: user, image, image_tag', UTC_TIMESTAMP(3)),
       (6, 'api keys', UTC_TIMESTAMP(3));
