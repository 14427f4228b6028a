import { findServerBinary, MysqlTestServer } from './mysql-server.js';
import { suiteServerGlobalSetup } from './suite-server-setup.js';

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
export default suiteServerGlobalSetup('mysqlServerUrl', {
  suites: 'MySQL',
  externalUrlVariable: 'TEST_MYSQL_URL',
  missing: 'no mariadbd/mysqld binary found',
  canStart: () => findServerBinary() !== undefined,
  start: async () => {
    const server = await MysqlTestServer.create();
    return { url: server.url, description: `a throwaway ${server.version} on 127.0.0.1:${server.port}`, stop: () => server.destroy() };
  },
});
