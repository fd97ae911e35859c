/**
 * Brute-force protection per client address: every login (POST /session) takes a token from one bucket,
 * every failed authentication (a 401 for a presented credential) from another. While an address's
 * failure bucket is empty, any credential it presents is refused with 429 before it is checked, so
 * guessing stays slow whether the guess is right or wrong.
 */
import { apiErrors } from "../http/api-error.ts";
import { RateLimiter } from "./rate-limiter.ts";

export interface ThrottleOptions {
  loginPerMinute: number;
  failuresPerMinute: number;
  now: () => number;
}

export function createAuthThrottle(options: ThrottleOptions) {
  const logins = new RateLimiter({ perMinute: options.loginPerMinute, now: options.now });
  const failures = new RateLimiter({ perMinute: options.failuresPerMinute, now: options.now });

  return {
    /** Throws 429 while the address may not present credentials. */
    beforeCredentialCheck(address: string): void {
      if (!failures.allows(address)) throw apiErrors.rateLimited(failures.retryAfterMs(address));
    },
    /** Counts a login attempt; throws 429 beyond the login rate. */
    beforeLogin(address: string): void {
      this.beforeCredentialCheck(address);
      if (!logins.tryTake(address)) throw apiErrors.rateLimited(logins.retryAfterMs(address));
    },
    /** Counts a failed authentication. */
    failed(address: string): void {
      failures.tryTake(address);
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;
