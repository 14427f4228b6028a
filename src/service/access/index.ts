/**
 * The access room: accounts, password hashing, the credential cache, failed-login limits, and the one
 * login call `AccessService.authenticate()`. The rest of the code imports this file only.
 */
export { AccessService, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, type AccessServiceDeps } from './access-service.js';
export { AuthFailureLimiter, type AuthFailureLimiterOptions } from './auth-failure-limiter.js';
export { CredentialCache } from './credential-cache.js';
export { DEFAULT_SCRYPT, type ScryptParams } from './password-hasher.js';
