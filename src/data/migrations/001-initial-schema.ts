import type { Migration } from './migration.js';

// Tags live twice: as a JSON array on the image row, so a read is one row, and in image_tag with the
// listing key (created_at, guid) and the author copied in, so a tag-filtered page, with or without an
// author filter, is one index range scan that stops after `limit` rows however rare the combination.
export const initialSchema: Migration = {
  version: 1,
  name: 'initial schema: user, image, image_tag',
  sqlite: [
    `CREATE TABLE user (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      is_admin INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    `CREATE TABLE image (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      guid TEXT NOT NULL UNIQUE,
      prompt TEXT NOT NULL,
      filename TEXT NOT NULL UNIQUE,
      tags TEXT NOT NULL DEFAULT '[]',
      author TEXT NOT NULL,
      content_type TEXT NOT NULL,
      byte_size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      model TEXT,
      size TEXT,
      revised_prompt TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    'CREATE INDEX image_listing_idx ON image (created_at, guid)',
    'CREATE INDEX image_author_listing_idx ON image (author, created_at, guid)',
    `CREATE TABLE image_tag (
      image_id INTEGER NOT NULL REFERENCES image (id) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      author TEXT NOT NULL,
      created_at TEXT NOT NULL,
      guid TEXT NOT NULL,
      PRIMARY KEY (image_id, tag)
    )`,
    'CREATE INDEX image_tag_listing_idx ON image_tag (tag, created_at, guid)',
    'CREATE INDEX image_tag_author_listing_idx ON image_tag (author, tag, created_at, guid)',
  ],
  mysql: [
    `CREATE TABLE user (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      username VARCHAR(64) NOT NULL,
      password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      is_admin TINYINT(1) NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY user_username_uq (username)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE image (
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
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    `CREATE TABLE image_tag (
      image_id BIGINT UNSIGNED NOT NULL,
      tag VARCHAR(64) NOT NULL,
      author VARCHAR(64) NOT NULL,
      created_at DATETIME(3) NOT NULL,
      guid CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
      PRIMARY KEY (image_id, tag),
      KEY image_tag_listing_idx (tag, created_at, guid),
      KEY image_tag_author_listing_idx (author, tag, created_at, guid),
      CONSTRAINT image_tag_image_fk FOREIGN KEY (image_id) REFERENCES image (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  ],
};
