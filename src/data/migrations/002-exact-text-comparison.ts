import type { Migration } from './migration.js';

// Usernames, tags, authors, guids and filenames are compared in SQL (lookups, filters, unique keys).
// SQLite compares TEXT with BINARY: byte for byte, trailing spaces significant. MariaDB's utf8mb4_bin
// and ascii_bin are PAD SPACE collations, under which 'bob ' = 'bob', so a lookup of `bob ` found bob
// and Basic credentials `bob :pw` logged in as bob. The NO PAD binary collations compare by code
// point with every character significant, which for UTF-8 is the byte order SQLite uses: both
// engines then agree on equality and on order. (MySQL 8 has no utf8mb4_nopad_bin; its equivalent is
// utf8mb4_0900_bin.)
const UTF8 = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin';
const ASCII = 'CHARACTER SET ascii COLLATE ascii_nopad_bin';

export const exactTextComparison: Migration = {
  version: 2,
  name: 'exact text comparison: NO PAD binary collations on MySQL',
  // SQLite's BINARY collation already compares exactly.
  sqlite: [],
  mysql: [
    `ALTER TABLE user DEFAULT ${UTF8},
      MODIFY username VARCHAR(64) ${UTF8} NOT NULL,
      MODIFY password_hash VARCHAR(255) ${ASCII} NOT NULL`,
    `ALTER TABLE image DEFAULT ${UTF8},
      MODIFY guid CHAR(36) ${ASCII} NOT NULL,
      MODIFY prompt TEXT ${UTF8} NOT NULL,
      MODIFY filename VARCHAR(255) ${UTF8} NOT NULL,
      MODIFY tags TEXT ${UTF8} NOT NULL,
      MODIFY author VARCHAR(64) ${UTF8} NOT NULL,
      MODIFY content_type VARCHAR(100) ${UTF8} NOT NULL,
      MODIFY sha256 CHAR(64) ${ASCII} NOT NULL,
      MODIFY model VARCHAR(100) ${UTF8} NULL,
      MODIFY size VARCHAR(20) ${UTF8} NULL,
      MODIFY revised_prompt TEXT ${UTF8} NULL`,
    `ALTER TABLE image_tag DEFAULT ${UTF8},
      MODIFY tag VARCHAR(64) ${UTF8} NOT NULL,
      MODIFY author VARCHAR(64) ${UTF8} NOT NULL,
      MODIFY guid CHAR(36) ${ASCII} NOT NULL`,
  ],
};
