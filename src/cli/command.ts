import { parseArgs } from 'node:util';
import { describeDatabase, loadConfig, type Config } from '../core/config.js';
import { ConstraintViolationError, ConfigurationError, PixyproxyError } from '../core/errors.js';
import { USAGE_GROUPS, type QuotaLimits, type UsageGroupBy } from '../core/models/usage.js';
import { formatUsd, parseUsd } from '../service/generation/index.js';
import { openContext, type Context } from './compose.js';
import { KEY_USAGE, keyCommand } from './key-command.js';
import { createLogger } from './logger.js';
import { passwordFromPrompt, passwordFromStdin } from './read-password.js';
import { formatSummary, progressReporter } from './storage-command.js';
import { serve, work } from './server.js';
import { usageTable } from './usage-table.js';

const USAGE = `Usage: pixyproxy <command>

Commands:
  serve                              run the HTTP server (the default)
  worker                             run generation jobs from the shared queue, no HTTP (needs REDIS_URL)
  migrate                            apply pending database migrations and exit
  doctor [--dry-run] [--grace-seconds N]
                                     remove image bytes that no row refers to, in every configured
                                     store, once older than the longest a create may take (at least
                                     5 minutes; --grace-seconds overrides it, only when no create can
                                     be in flight anywhere), and leftovers of interrupted writes
  storage migrate --to s3|file       copy every image's bytes to that store, verify each copy by its
                                     sha-256 and point the row at it; resumable, safe to re-run
  user add NAME [--admin] [--password-stdin]
                                     add a user; the password is read from standard input
                                     (--password-stdin) or asked for on the terminal
  user passwd NAME [--password-stdin]
                                     change a user's password
  user list                          list users
  user remove NAME                   remove a user (their images stay; their API keys go)
  user quota NAME [--images-per-day N] [--usd-per-month USD] [--clear]
                                     set a user's quotas (UTC day, UTC calendar month); an option
                                     left out keeps its value; --clear removes both; none prints them
  usage [--from TIME] [--to TIME] [--group-by user|model|day]
                                     images, tokens and cost per group (RFC 3339 times; from
                                     defaults to the start of the current UTC month)
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
  const context = await openContext(config, createLogger({ ...config, logLevel: 'warn' }), { role: 'command' });
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
    options: {
      admin: { type: 'boolean', default: false },
      'password-stdin': { type: 'boolean', default: false },
      'images-per-day': { type: 'string' },
      'usd-per-month': { type: 'string' },
      clear: { type: 'boolean', default: false },
    },
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
    case 'quota': {
      if (!name) throw new ConfigurationError('user quota needs a NAME');
      const change = quotaChange(values);
      const limits = await withContext(config, async (c) => {
        if (change === undefined) return c.services.metering.quotaOf(name);
        const current = await c.services.metering.quotaOf(name);
        const next: QuotaLimits = change === 'clear' ? { imagesPerDay: null, usdPerMonthNano: null } : { ...current, ...change };
        try {
          await c.services.metering.setQuota(name, next);
        } catch (error) {
          // The quota row references the user: an unknown name breaks that reference.
          if (error instanceof ConstraintViolationError) throw new ConstraintViolationError(`no user named "${name}"`, { cause: error });
          throw error;
        }
        return next;
      });
      const images = limits.imagesPerDay === null ? 'none' : String(limits.imagesPerDay);
      const usd = limits.usdPerMonthNano === null ? 'none' : `$${formatUsd(limits.usdPerMonthNano)}`;
      console.log(`${name}: images per day ${images}, USD per month ${usd}`);
      return;
    }
    default:
      throw new ConfigurationError(`unknown user command "${action ?? ''}"\n\n${USAGE}`);
  }
}

async function storageCommand(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' } } });
  if (positionals[0] !== 'migrate' || positionals.length !== 1) {
    throw new ConfigurationError(`unknown storage command "${positionals.join(' ')}"\n\n${USAGE}`);
  }
  const to = values.to;
  if (to !== 's3' && to !== 'file') throw new ConfigurationError('storage migrate needs --to s3 or --to file');
  if (to === 's3' && config.storage.s3 === undefined) throw new ConfigurationError('storage migrate --to s3 needs S3_BUCKET (and the other S3_* variables)');
  const progress = progressReporter(process.stderr, to);
  const summary = await withContext(config, async (c) => {
    try {
      return await c.storageMigration.migrate(to, (event) => progress.update(event));
    } finally {
      progress.end();
    }
  });
  process.stdout.write(formatSummary(summary));
  if (summary.failed.length > 0) process.exitCode = 1;
}

/** What `user quota` was asked to change: partial limits, 'clear', or undefined to only print. */
function quotaChange(values: { 'images-per-day'?: string | undefined; 'usd-per-month'?: string | undefined; clear?: boolean | undefined }): Partial<QuotaLimits> | 'clear' | undefined {
  const imagesText = values['images-per-day'];
  const usdText = values['usd-per-month'];
  if (values.clear) {
    if (imagesText !== undefined || usdText !== undefined) throw new ConfigurationError('user quota: --clear takes no other option');
    return 'clear';
  }
  const change: Partial<QuotaLimits> = {};
  if (imagesText !== undefined) {
    if (!/^[0-9]{1,7}$/.test(imagesText)) throw new ConfigurationError(`--images-per-day must be a whole number, got "${imagesText}"`);
    change.imagesPerDay = Number(imagesText);
  }
  if (usdText !== undefined) {
    const nano = parseUsd(usdText.replace(/^\$/, ''));
    if (nano === undefined) throw new ConfigurationError(`--usd-per-month must be an amount in US dollars such as 20 or 7.50, got "${usdText}"`);
    change.usdPerMonthNano = nano;
  }
  return Object.keys(change).length === 0 ? undefined : change;
}

async function usageCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string', default: 'user' } } });
  const groupBy = values['group-by'];
  if (!(USAGE_GROUPS as readonly string[]).includes(groupBy)) {
    throw new ConfigurationError(`--group-by must be one of ${USAGE_GROUPS.join(', ')}, got "${groupBy}"`);
  }
  // The operator at the terminal sees everyone, as an admin does over HTTP.
  const report = await withContext(config, (c) =>
    c.services.metering.report({ username: '', isAdmin: true }, { from: values.from, to: values.to, groupBy: groupBy as UsageGroupBy }),
  );
  console.log(usageTable(report));
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
    case 'worker':
      return work(config, createLogger(config));
    case 'migrate': {
      const report = await withContext(config, async (c) => c.migration);
      console.log(`${describeDatabase(config.database)}: schema at version ${report.current}; applied ${report.applied.length ? report.applied.join(', ') : 'nothing'}`);
      return;
    }
    case 'user':
      return userCommand(config, rest);
    case 'key':
      return keyCommand(rest, (fn) => withContext(config, fn));
    case 'usage':
      return usageCommand(config, rest);
    case 'doctor': {
      const { values } = parseArgs({
        args: rest,
        options: { 'dry-run': { type: 'boolean', default: false }, 'grace-seconds': { type: 'string' } },
      });
      const dryRun = values['dry-run'];
      const graceSeconds = values['grace-seconds'];
      if (graceSeconds !== undefined && !/^[0-9]{1,9}$/.test(graceSeconds)) {
        throw new ConfigurationError(`--grace-seconds must be a whole number of seconds, got "${graceSeconds}"`);
      }
      const report = await withContext(config, (c) =>
        c.sweeper.sweep({ dryRun, ...(graceSeconds !== undefined && { graceMs: Number(graceSeconds) * 1000 }) }),
      );
      console.log(
        `image objects scanned: ${report.scanned}\n` +
          `orphans (no row, older than ${Math.round(report.graceMs / 1000)} s): ${report.orphans}\n` +
          `recent objects without a row (kept; a create may be in flight): ${report.recent}\n` +
          `interrupted writes (.tmp-*): ${report.temporary}\n` +
          `${dryRun ? 'dry run: nothing removed' : `removed: ${report.removed}`}`,
      );
      return;
    }
    case 'storage':
      return storageCommand(config, rest);
    default:
      throw new ConfigurationError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof PixyproxyError ? error.message : String((error as Error)?.stack ?? error);
  console.error(`pixyproxy: ${error instanceof ConfigurationError ? 'configuration error: ' : ''}${message}`);
  process.exitCode = error instanceof ConfigurationError ? 2 : 1;
});
