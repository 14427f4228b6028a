import type { Migration } from './migration.js';

// Full-text search over prompt and revised prompt (GET /image?q=), indexing the rows that exist.
//
// SQLite: an FTS5 table over the image table's own columns (external content, so the text is not
// stored twice), kept in step by triggers, tokenised by unicode61 with diacritics removed, so
// matching ignores case and accents. `rebuild` indexes every existing row.
//
// MySQL/MariaDB: the image table's collation is binary (exact matches for tags and names, NO PAD since
// migration 002), which would make a FULLTEXT index case-sensitive; the index therefore reads its own
// column in a case- and accent-insensitive collation, filled from prompt and revised prompt here and
// by the repository on insert (prompts never change afterwards). Like every text column since 002 it
// is a NO PAD collation (utf8mb4_unicode_520_nopad_ci), so trailing spaces are never ignored.
export const promptSearch: Migration = {
  version: 5,
  name: 'prompt search: image_fts (SQLite FTS5) / image.search_text FULLTEXT (MySQL)',
  sqlite: [
    `CREATE VIRTUAL TABLE image_fts USING fts5(
      prompt, revised_prompt, content='image', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )`,
    `CREATE TRIGGER image_fts_after_insert AFTER INSERT ON image BEGIN
      INSERT INTO image_fts (rowid, prompt, revised_prompt) VALUES (new.id, new.prompt, new.revised_prompt);
    END`,
    `CREATE TRIGGER image_fts_after_delete AFTER DELETE ON image BEGIN
      INSERT INTO image_fts (image_fts, rowid, prompt, revised_prompt) VALUES ('delete', old.id, old.prompt, old.revised_prompt);
    END`,
    `CREATE TRIGGER image_fts_after_update AFTER UPDATE OF prompt, revised_prompt ON image BEGIN
      INSERT INTO image_fts (image_fts, rowid, prompt, revised_prompt) VALUES ('delete', old.id, old.prompt, old.revised_prompt);
      INSERT INTO image_fts (rowid, prompt, revised_prompt) VALUES (new.id, new.prompt, new.revised_prompt);
    END`,
    `INSERT INTO image_fts (image_fts) VALUES ('rebuild')`,
  ],
  mysql: [
    'ALTER TABLE image ADD COLUMN search_text TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_nopad_ci NULL',
    "UPDATE image SET search_text = IF(revised_prompt IS NULL, prompt, CONCAT(prompt, '\\n', revised_prompt))",
    'ALTER TABLE image ADD FULLTEXT KEY image_search_ft (search_text)',
  ],
};
