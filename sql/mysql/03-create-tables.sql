-- pixyproxy on MySQL 8 / MariaDB 10.6+: step 3 of 3, run as an administrator against the database.
--   mariadb -u root -p pixyproxy < sql/mysql/03-create-tables.sql
--
-- The same schema as migrations 001 and 002 (src/data/migrations/), which the tests check by
-- comparing information_schema for a database built each way. The last statement records those
-- versions in the migration ledger, so the application's start-up migration step skips them.
--
-- Text is compared exactly, as on SQLite: the NO PAD binary collations (utf8mb4_nopad_bin,
-- ascii_nopad_bin) make 'bob ' differ from 'bob', which the PAD SPACE utf8mb4_bin would not.
-- These collations are MariaDB's (10.2 and later); see the README (MySQL / MariaDB) for MySQL 8.
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
  PRIMARY KEY (id),
  UNIQUE KEY image_guid_uq (guid),
  UNIQUE KEY image_filename_uq (filename),
  KEY image_listing_idx (created_at, guid),
  KEY image_author_listing_idx (author, created_at, guid)
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

CREATE TABLE schema_migration (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO schema_migration (version, name, applied_at)
VALUES (1, 'initial schema: user, image, image_tag', UTC_TIMESTAMP(3)),
  (2, 'exact text comparison: NO PAD binary collations on MySQL', UTC_TIMESTAMP(3));
