/**
 * Brute-force protection for admin credentials that never locks an admin out through someone else's
 * failures (the architecture's invariant 7; the gateway's `auth-budgets.ts` is the same design). Budgets
 * are keyed to what the caller presents:
 *
 * - a credential known valid (it authenticated on this replica within `knownTtlMs`: an admin token, a
 *   session, a JWT) spends nothing, so a flood from its address (a balancer's, say) does not touch it;
 * - any other credential spends one from its own refusal budget (per credential hash) and one from its
 *   client address's budget of unknown credentials (per address, IPv6 per /64);
 * - a sign-in (POST /session) also spends its token's sign-in budget: how many sessions one token opens.
 *
 * Budgets are taken before the vault (or the OIDC verifier) is asked and given back when the answer shows
 * the credential valid or gave no verdict, so no number of concurrent requests gets more than the budget
 * through. A request refused on a spent budget is counted in the throttle report, which the vault audits
 * as one `calls.throttled` summary per burst; a refusal within the budget is audited by the vault itself.
 */
import type { ThrottleBudget, ThrottleReport } from "@secrets/bus";
import { addressKey, RateLimiter } from "@secrets/validation";
import { apiErrors } from "../http/api-error.ts";
import { AuthCache } from "./auth-cache.ts";

/** What was presented, as the throttle report and its audit summary name it. */
export type CredentialMethod = "admin-token" | "admin-session" | "admin-login";

/** What the vault (or the OIDC verifier) said of the credential. */
export type CredentialVerdict =
  /** It authenticated an admin (a 403 for a missing scope included). */
  | "valid"
  /** Refused: unknown, revoked, expired, a bad signature. */
  | "refused"
  /** No verdict: the vault or the identity provider did not answer. Nothing counts. */
  | "none";

/** The budgets one request holds until its credential is judged. */
export interface CredentialHold {
  /** Settles the budgets with the verdict; a second call does nothing. */
  settle(verdict: CredentialVerdict): void;
}

export interface AdminBudgetsOptions {
  /** Unknown credentials per client address and minute (ADMIN_AUTH_FAILURE_RATE_PER_MINUTE). */
  unknownPerMinute: number;
  /** Refusals per credential and minute (ADMIN_CREDENTIAL_REFUSAL_RATE_PER_MINUTE). */
  refusalsPerMinute: number;
  /** Sign-ins per admin token and minute (ADMIN_LOGIN_RATE_PER_MINUTE). */
  loginsPerMinute: number;
  /** How long a credential that authenticated stays known valid; a refusal forgets it at once. */
  knownTtlMs: number;
  knownMaxEntries: number;
  throttled: ThrottleReport;
  now: () => number;
}

export function createAdminBudgets(options: AdminBudgetsOptions) {
  const { now, throttled } = options;
  const unknown = new RateLimiter({ perMinute: options.unknownPerMinute, now });
  const refusals = new RateLimiter({ perMinute: options.refusalsPerMinute, now });
  const logins = new RateLimiter({ perMinute: options.loginsPerMinute, now });
  const known = new AuthCache<true>({ ttlMs: options.knownTtlMs, maxEntries: options.knownMaxEntries, now });

  function spent(
    method: CredentialMethod,
    budget: ThrottleBudget,
    hash: string,
    address: string,
    retryAfterMs: number,
  ) {
    throttled.count(method, budget, budget === "token" ? hash : "", address);
    return apiErrors.rateLimited(retryAfterMs);
  }

  return {
    /**
     * Takes the budgets for a credential (its hex SHA-256), or throws ApiError 429 when one is spent.
     * A credential known valid takes nothing.
     */
    take(method: CredentialMethod, credentialHash: string, address: string): CredentialHold {
      if (known.get(credentialHash)) {
        return {
          settle(verdict) {
            // Revoked or ended since it was learnt: count the refusal after the fact.
            if (verdict !== "refused") return;
            known.delete(credentialHash);
            refusals.record(credentialHash);
          },
        };
      }
      if (!refusals.tryTake(credentialHash)) {
        throw spent(method, "token", credentialHash, address, refusals.retryAfterMs(credentialHash));
      }
      const key = addressKey(address);
      if (!unknown.tryTake(key)) {
        refusals.refund(credentialHash);
        throw spent(method, "address", "", address, unknown.retryAfterMs(key));
      }
      let settled = false;
      return {
        settle(verdict) {
          if (settled) return;
          settled = true;
          if (verdict === "refused") return;
          unknown.refund(key);
          refusals.refund(credentialHash);
        },
      };
    },

    /** A credential too malformed to ask anyone about: it spends its address's budget (or throws 429). */
    malformed(method: CredentialMethod, address: string): void {
      const key = addressKey(address);
      if (!unknown.tryTake(key)) throw spent(method, "address", "", address, unknown.retryAfterMs(key));
    },

    /** Spends one of the token's sign-ins (sessions it may open per minute), or throws 429. */
    takeLogin(tokenHash: string, address: string): void {
      if (!logins.tryTake(tokenHash)) {
        throw spent("admin-login", "token", tokenHash, address, logins.retryAfterMs(tokenHash));
      }
    },

    /** Remembers a credential that authenticated, until `notAfterMs` (a session's expiry) at the latest. */
    learn(credentialHash: string, notAfterMs?: number): void {
      known.set(credentialHash, true, notAfterMs);
    },

    forget(credentialHash: string): void {
      known.delete(credentialHash);
    },
  };
}

export type AdminBudgets = ReturnType<typeof createAdminBudgets>;
