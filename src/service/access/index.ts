/**
 * The access room: accounts, password hashing, the credential cache, failed-login limits, API keys,
 * and the one login call `AccessService.authenticate()` (HTTP Basic or a bearer API key). The rest
 * of the code imports this file only.
 */
export { ApiKeyService, type ApiKeyServiceOptions } from './api-key-service.js';
export { AccessService, type Credentials, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type AccessServiceDeps } from './access-service.js';
export { AuthFailureLimiter, type AuthFailureLimiterOptions, type LoginLimiter } from './auth-failure-limiter.js';
export { RedisCredentialInvalidation, type CredentialInvalidationListener } from './redis-credential-invalidation.js';
export { RedisLoginLimiter, type RedisLoginLimiterOptions } from './redis-login-limiter.js';
export { CredentialCache } from './credential-cache.js';
export { DEFAULT_SCRYPT, type ScryptParams } from './password-hasher.js';
