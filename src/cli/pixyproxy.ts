#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { describeDatabase, loadConfig, type Config } from '../core/config.js';
import { ConfigurationError, PixyproxyError } from '../core/errors.js';
import { openContext, type Context } from './compose.js';
import { KEY_USAGE, keyCommand } from './key-command.js';
import { createLogger } from './logger.js';
import { passwordFromPrompt, passwordFromStdin } from './read-password.js';
import { serve } from './server.js';

const USAGE = `Usage: pixyproxy <command>

Commands:
  serve                              run the HTTP server (the default)
  migrate                            apply pending database migrations and exit
  doctor [--dry-run]                 remove image files that no row refers to (older than 5 minutes)
                                     and leftovers of interrupted writes; print what was found
  user add NAME [--admin] [--password-stdin]
                                     add a user; the password is read from standard input
                                     (--password-stdin) or asked for on the terminal
  user passwd NAME [--password-stdin]
                                     change a user's password
  user list                          list users
  user remove NAME                   remove a user (their images stay; their API keys go)
${KEY_USAGE}

Configuration comes from the environment and a .env file in the working directory; see README.md.`;

function loadDotEnv(): void {
  try {
    process.loadEnvFile('.env');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
}

async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return passwordFromStdin();
  if (!process.stdin.isTTY) throw new ConfigurationError('No terminal to ask for a password: use --password-stdin');
  const password = await passwordFromPrompt();
  if (password === undefined) throw new ConfigurationError('The passwords did not match');
  return password;
}

async function withContext<T>(config: Config, fn: (context: Context) => Promise<T>): Promise<T> {
  const context = await openContext(config, createLogger({ ...config, logLevel: 'warn' }));
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

async function userCommand(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, 'password-stdin': { type: 'boolean', default: false } },
  });
  const [action, name] = positionals;
  const users = (context: Context) => context.services.access;
  switch (action) {
    case 'add': {
      if (!name) throw new ConfigurationError('user add needs a NAME');
      const password = await readNewPassword(values['password-stdin']);
      const user = await withContext(config, (c) => users(c).addUser(name, password, { isAdmin: values.admin }));
      console.log(`added user ${user.username}${user.is_admin ? ' (admin)' : ''}`);
      return;
    }
    case 'passwd': {
      if (!name) throw new ConfigurationError('user passwd needs a NAME');
      const password = await readNewPassword(values['password-stdin']);
      await withContext(config, (c) => users(c).setPassword(name, password));
      console.log(`changed the password of ${name}`);
      return;
    }
    case 'list': {
      const list = await withContext(config, (c) => users(c).listUsers());
      for (const user of list) console.log(`${user.username}\t${user.is_admin ? 'admin' : 'user'}\t${user.created_at}`);
      return;
    }
    case 'remove': {
      if (!name) throw new ConfigurationError('user remove needs a NAME');
      await withContext(config, (c) => users(c).removeUser(name));
      console.log(`removed user ${name}`);
      return;
    }
    default:
      throw new ConfigurationError(`unknown user command "${action ?? ''}"\n\n${USAGE}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  loadDotEnv();
  const config = loadConfig(process.env);
  switch (command) {
    case 'serve':
      return serve(config, createLogger(config));
    case 'migrate': {
      const report = await withContext(config, async (c) => c.migration);
      console.log(`${describeDatabase(config.database)}: schema at version ${report.current}; applied ${report.applied.length ? report.applied.join(', ') : 'nothing'}`);
      return;
    }
    case 'user':
      return userCommand(config, rest);
    case 'key':
      return keyCommand(rest, (fn) => withContext(config, fn));
    case 'doctor': {
      const { values } = parseArgs({ args: rest, options: { 'dry-run': { type: 'boolean', default: false } } });
      const dryRun = values['dry-run'];
      const report = await withContext(config, (c) => c.sweeper.sweep({ dryRun }));
      console.log(
        `image files scanned: ${report.scanned}\n` +
          `orphans (no row, older than 5 minutes): ${report.orphans}\n` +
          `recent files without a row (kept; a create may be in flight): ${report.recent}\n` +
          `interrupted writes (.tmp-*): ${report.temporary}\n` +
          `${dryRun ? 'dry run: nothing removed' : `removed: ${report.removed}`}`,
      );
      return;
    }
    default:
      throw new ConfigurationError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof PixyproxyError ? error.message : String((error as Error)?.stack ?? error);
  console.error(`pixyproxy: ${error instanceof ConfigurationError ? 'configuration error: ' : ''}${message}`);
  process.exitCode = error instanceof ConfigurationError ? 2 : 1;
});
