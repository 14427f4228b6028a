import type { Migration } from './migration.js';

// Each row names where its bytes are: the store (`file` or `s3`) and the key within it, so switching
// IMAGE_STORE never strands images written before, and `pixyproxy storage migrate` moves them one row at a
// time. Rows written before this migration are on the local disk under their filename. Keys are ASCII
// (the S3 prefix is restricted to S3's safe characters) so (object_store, object_key) can be one unique
// index: no two rows ever share bytes, so deleting one image can never delete another's.
export const imageObjectLocation: Migration = {
  version: 3,
  name: 'image bytes location: object_store, object_key',
  sqlite: [
    "ALTER TABLE image ADD COLUMN object_store TEXT NOT NULL DEFAULT 'file'",
    "ALTER TABLE image ADD COLUMN object_key TEXT NOT NULL DEFAULT ''",
    'UPDATE image SET object_key = filename',
    'CREATE UNIQUE INDEX image_object_uq ON image (object_store, object_key)',
  ],
  mysql: [
    `ALTER TABLE image
      ADD COLUMN object_store VARCHAR(16) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL DEFAULT 'file' AFTER filename,
      ADD COLUMN object_key VARCHAR(512) CHARACTER SET ascii COLLATE ascii_nopad_bin NOT NULL AFTER object_store`,
    'UPDATE image SET object_key = filename',
    'ALTER TABLE image ADD UNIQUE KEY image_object_uq (object_store, object_key)',
  ],
};
