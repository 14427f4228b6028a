import type { TestProject } from 'vitest/node';
import { findServerBinary, MysqlTestServer } from './mysql-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Root URL of the MySQL server the MySQL suites use; '' when they are skipped. */
    mysqlServerUrl: string;
  }
}

/**
 * One MySQL server per test run, shared by every test file (each file creates its own database).
 * TEST_MYSQL_URL points at an existing server instead. With no server binary the MySQL suites are
 * skipped, except under CI=true, where a skipped engine would hide a failure.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env['TEST_MYSQL_URL']?.trim();
  if (external) {
    console.info(`MySQL suites run against TEST_MYSQL_URL (${new URL(external).host})`);
    project.provide('mysqlServerUrl', external);
    return undefined;
  }
  if (findServerBinary() === undefined) {
    const message = 'MySQL suites SKIPPED: no mariadbd/mysqld binary found and TEST_MYSQL_URL is not set';
    if (process.env['CI'] === 'true') throw new Error(`${message} (CI=true requires them)`);
    console.warn(`\n!!! ${message} !!!\n`);
    project.provide('mysqlServerUrl', '');
    return undefined;
  }
  const server = await MysqlTestServer.create();
  console.info(`MySQL suites run against a throwaway ${server.version} on 127.0.0.1:${server.port}`);
  project.provide('mysqlServerUrl', server.url);
  return () => server.destroy();
}
