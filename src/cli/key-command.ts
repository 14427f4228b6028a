import { parseArgs } from 'node:util';
import type { Context } from './compose.js';
import { ConfigurationError } from '../core/errors.js';
import type { ApiKey } from '../core/models/api-key.js';

export const KEY_USAGE = `  key create NAME [--label TEXT] [--expires-in 30d]
                                     create an API key for a user and print its token (shown only
                                     this once; only a hash is stored); --expires-in takes minutes,
                                     hours or days (90m, 12h, 30d), without it the key never expires
  key list NAME                      list a user's API keys (id, prefix, label, created, expires,
                                     last used, state)
  key revoke ID                      revoke an API key: its token stops working at once`;

function stateOf(key: ApiKey, now: Date): string {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && Date.parse(key.expires_at) <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * `pixyproxy key create|list|revoke`. The token of a new key goes alone to standard output (so
 * `TOKEN=$(pixyproxy key create alice)` works); what was created goes to standard error.
 * @param withContext opens the composition root for one command and closes it afterwards
 * @throws ConfigurationError for a missing argument or an unknown action (exit code 2)
 */
export async function keyCommand(
  args: string[],
  withContext: <T>(fn: (context: Context) => Promise<T>) => Promise<T>,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { label: { type: 'string' }, 'expires-in': { type: 'string' } },
  });
  const [action, argument] = positionals;
  switch (action) {
    case 'create': {
      if (!argument) throw new ConfigurationError('key create needs a NAME');
      const input = {
        ...(values.label !== undefined && { label: values.label }),
        ...(values['expires-in'] !== undefined && { expires_in: values['expires-in'] }),
      };
      const key = await withContext((c) => c.services.apiKeys.create(argument, input));
      console.error(
        `created API key ${key.id} for ${argument}${key.expires_at === null ? '' : `, expires ${key.expires_at}`}; ` +
          'its token (below) is shown only this once',
      );
      console.log(key.token);
      return;
    }
    case 'list': {
      if (!argument) throw new ConfigurationError('key list needs a NAME');
      const keys = await withContext((c) => c.services.apiKeys.list(argument));
      const now = new Date();
      console.log(['id', 'prefix', 'label', 'created', 'expires', 'last_used', 'state'].join('\t'));
      for (const key of keys) {
        const cells = [key.id, key.prefix, key.label ?? '-', key.created_at, key.expires_at ?? 'never', key.last_used_at ?? 'never', stateOf(key, now)];
        console.log(cells.join('\t'));
      }
      return;
    }
    case 'revoke': {
      if (!argument) throw new ConfigurationError('key revoke needs an ID');
      await withContext((c) => c.services.apiKeys.revoke(argument));
      console.log(`revoked API key ${argument}`);
      return;
    }
    default:
      throw new ConfigurationError(`unknown key command "${action ?? ''}"`);
  }
}
