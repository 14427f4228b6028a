import { AccessService, ApiKeyService, AuthFailureLimiter, CredentialCache } from '../../src/service/access/index.js';
import type { UserRepository } from '../../src/data/user-repository.js';
import { InMemoryApiKeyRepository, InMemoryUserRepository } from './fakes.js';
import { TEST_SCRYPT } from './test-app.js';

/** The client address tests log in from when the address does not matter. */
export const CLIENT = '192.0.2.10';

/**
 * An AccessService over `users` with its parts built the way the composition root builds them, cheap
 * scrypt, and limits high enough that only tests that set their own meet them.
 */
export function accessServiceOver(
  users: UserRepository,
  options: {
    credentialCacheTtlMs?: number;
    authFailureLimit?: number;
    authFailureWindowMs?: number;
    verifyPassword?: (password: string, encoded: string) => Promise<boolean>;
  } = {},
): AccessService {
  return new AccessService({
    users,
    // No keys: the bearer path is tested over the SQL repository (test/web/bearer-authentication.test.ts).
    apiKeys: new ApiKeyService(new InMemoryApiKeyRepository(new InMemoryUserRepository())),
    credentialCache: new CredentialCache(options.credentialCacheTtlMs ?? 60_000),
    failureLimiter: new AuthFailureLimiter({ limit: options.authFailureLimit ?? 1_000_000, windowMs: options.authFailureWindowMs ?? 60_000 }),
    scrypt: TEST_SCRYPT,
    ...(options.verifyPassword && { verifyPassword: options.verifyPassword }),
  });
}
