/**
 * The failed-authentication budget per peer, shared by every call that authenticates a service token
 * (GetSecret, GetSecrets, WatchSecrets): once a peer has spent it, its calls are refused before the vault
 * is asked, the right token included.
 */
import { BusError, ErrorCode, Reason } from "@secrets/bus";
import type { RateLimiter } from "./rate-limiter.ts";

export type AuthFailures = Pick<RateLimiter, "allows" | "record" | "retryAfterMs">;

/** RESOURCE_EXHAUSTED for a peer that has spent its budget, saying when to try again; else undefined. */
export function spentPeerRefusal(authFailures: AuthFailures, peer: string): BusError | undefined {
  if (authFailures.allows(peer)) return undefined;
  const seconds = Math.ceil(authFailures.retryAfterMs(peer) / 1000);
  return new BusError(
    ErrorCode.RESOURCE_EXHAUSTED,
    `Too many failed authentications from this address; try again in ${seconds} s`,
    { reason: Reason.RATE_LIMITED },
  );
}
