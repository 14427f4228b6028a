import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import type { Database } from '../../src/data/database.js';
import { SqlImageRepository } from '../../src/data/image-repository.js';
import { migrate } from '../../src/data/migrator.js';
import { MIGRATIONS } from '../../src/data/migrations/index.js';
import { openDatabase } from '../../src/data/open-database.js';
import { describeMysql } from '../support/engines.js';
import { makeNewImage } from '../support/factories.js';
import { createTestDatabase } from '../support/mysql-server.js';

const SCRIPTS = join(import.meta.dirname, '../../sql/mysql');

/** Runs a DBA script with the database, user and password names swapped for this test's own. */
async function runScript(serverUrl: string, file: string, names: { database: string; user?: string; password?: string }) {
  const text = (await readFile(join(SCRIPTS, file), 'utf8'))
    .replaceAll('`pixyproxy`', `\`${names.database}\``)
    .replaceAll("'pixyproxy'@", `'${names.user ?? 'pixyproxy'}'@`)
    .replaceAll("'CHANGE-ME'", `'${names.password ?? 'CHANGE-ME'}'`);
  const connection = await mysql.createConnection({
    uri: serverUrl,
    multipleStatements: true,
    ...(file.startsWith('03') && { database: names.database }),
  });
  try {
    await connection.query(text);
  } finally {
    await connection.end();
  }
}

async function openAs(url: string): Promise<Database> {
  return openDatabase(loadConfig({ DATABASE_URL: url }).database);
}

/** Everything information_schema says about a database's tables, minus the database's name. */
async function schemaOf(serverUrl: string, database: string) {
  const connection = await mysql.createConnection({ uri: serverUrl });
  const select = async (sql: string) => (await connection.query(sql, [database]))[0];
  try {
    return {
      tables: await select(`SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`),
      columns: await select(`SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, COLUMN_TYPE,
          CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_KEY, EXTRA
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`),
      indexes: await select(`SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE
        FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`),
      constraints: await select(`SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE
        FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME`),
      keyColumns: await select(`SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION, REFERENCED_TABLE_NAME,
          REFERENCED_COLUMN_NAME
        FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`),
      references: await select(`SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE
        FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME`),
    };
  } finally {
    await connection.end();
  }
}

describeMysql('sql/mysql scripts', () => {
  const serverUrl = inject('mysqlServerUrl');
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const scripted = `pixyproxy_scripted_${suffix}`;
  const appUser = `pixyproxy_app_${suffix}`.slice(0, 32);
  const appPassword = `pw-${suffix}`;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    await runScript(serverUrl, '01-create-database.sql', { database: scripted });
    await runScript(serverUrl, '02-create-user.sql', { database: scripted, user: appUser, password: appPassword });
    await runScript(serverUrl, '03-create-tables.sql', { database: scripted });
    cleanups.push(async () => {
      const admin = await mysql.createConnection({ uri: serverUrl });
      await admin.query(`DROP DATABASE IF EXISTS \`${scripted}\``);
      await admin.query(`DROP USER IF EXISTS '${appUser}'@'%'`);
      await admin.end();
    });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('create the same tables, columns, indexes and constraints as the migrations', async () => {
    const migrated = await createTestDatabase(serverUrl);
    cleanups.push(() => migrated.drop());
    const db = await openAs(migrated.url);
    await migrate(db);
    await db.close();
    const fromScripts = await schemaOf(serverUrl, scripted);
    expect(fromScripts.tables).toHaveLength(9);
    expect(await schemaOf(serverUrl, migrated.name)).toEqual(fromScripts);
  });

  it('create a utf8mb4 database with the NO PAD binary collation', async () => {
    const admin = await mysql.createConnection({ uri: serverUrl });
    const [rows] = await admin.query(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [scripted],
    );
    await admin.end();
    expect(rows).toEqual([{ charset: 'utf8mb4', collation: 'utf8mb4_nopad_bin' }]);
  });

  it('record every migration they cover, so start-up migration as the application user applies nothing', async () => {
    const url = `mysql://${appUser}:${appPassword}@${new URL(serverUrl).host}/${scripted}`;
    const db = await openAs(url);
    try {
      expect(await migrate(db)).toEqual({ applied: [], current: Math.max(...MIGRATIONS.map((m) => m.version)) });
    } finally {
      await db.close();
    }
  });

  it('grant the application user row access and no schema changes', async () => {
    const url = `mysql://${appUser}:${appPassword}@${new URL(serverUrl).host}/${scripted}`;
    const db = await openAs(url);
    try {
      const images = new SqlImageRepository(db);
      const image = await images.insert(makeNewImage({ tags: ['granted'] }));
      expect((await images.listPage({ limit: 10, tag: 'granted' })).images.map((i) => i.guid)).toEqual([image.guid]);
      expect(await images.updateTags(image.guid, ['changed'], new Date().toISOString())).toMatchObject({ tags: ['changed'] });
      expect(await images.deleteByGuid(image.guid)).toBe(true);
      await expect(db.run('CREATE TABLE intruder (id INT)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(db.run('DROP TABLE image_tag')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    } finally {
      await db.close();
    }
  });
});
