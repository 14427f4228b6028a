import type { Redis } from 'ioredis';
import { onSharedState } from '../../data/redis-connection.js';

/** What the credential cache must do when another instance (or the CLI) changes an account. */
export interface CredentialInvalidationListener {
  /** Forget every cached credential of this user (password changed, user removed). */
  evictUser(username: string): void;
  /** Forget everything: messages may have been missed while the subscription was down. */
  evictAll(): void;
}

/**
 * Carries credential-cache evictions between instances over Redis pub/sub, so a password change or
 * a user removal on any instance (or through `pixyproxy user`) takes effect on all of them at once,
 * not after AUTH_CACHE_TTL_MS.
 *
 * Pub/sub delivers only to connected subscribers; after the subscriber connection has been down,
 * every cached credential is dropped (evictAll), since an eviction may have been missed. The
 * channel is `<REDIS_KEY_PREFIX>:credentials:evict`, the message the username.
 */
export class RedisCredentialInvalidation {
  readonly #publisher: Redis;
  readonly #subscriber: Redis | undefined;
  readonly #channel: string;

  /** subscriber: a connection of its own (one in subscribe mode can do nothing else); absent: publish only. */
  constructor(publisher: Redis, subscriber: Redis | undefined, keyPrefix: string) {
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#channel = `${keyPrefix}:credentials:evict`;
  }

  /** Subscribes; resolves once the subscription is active. @throws SharedStateUnavailableError. */
  async listen(listener: CredentialInvalidationListener): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber === undefined) throw new Error('RedisCredentialInvalidation was built without a subscriber connection');
    subscriber.on('message', (channel: string, username: string) => {
      if (channel === this.#channel) listener.evictUser(username);
    });
    let wasDown = false;
    subscriber.on('close', () => (wasDown = true));
    // ioredis re-subscribes on reconnect; 'ready' follows, and only then can missed messages be ruled out.
    subscriber.on('ready', () => {
      if (!wasDown) return;
      wasDown = false;
      listener.evictAll();
    });
    await onSharedState(() => subscriber.subscribe(this.#channel));
  }

  /** Closes the subscriber connection (the publisher belongs to the caller). */
  close(): void {
    this.#subscriber?.disconnect();
  }

  /**
   * Tells every instance to evict this user's cached credentials.
   * @throws SharedStateUnavailableError when Redis cannot be reached (the others then keep their
   * entries until AUTH_CACHE_TTL_MS ends).
   */
  async publish(username: string): Promise<void> {
    await onSharedState(() => this.#publisher.publish(this.#channel, username));
  }
}
