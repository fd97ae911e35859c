/**
 * Who is asking: an admin token (Bearer; only its SHA-256 goes to the vault), an OIDC JWT (Bearer,
 * verified here), or the dashboard's session cookie (only the session id's SHA-256 goes to the vault).
 * Successes are cached briefly; budgets (`admin-budgets.ts`) are taken before any credential is checked.
 */
import { adminOperations, callerContextOf, ErrorCode, isBusError } from "@secrets/bus";
import { ApiError, apiErrors } from "../http/api-error.ts";
import type { RequestState } from "../http/request-state.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type { AdminBudgets, CredentialMethod, CredentialVerdict } from "./admin-budgets.ts";
import type { AuthCache } from "./auth-cache.ts";
import { looksLikeJwt, presentedCredential } from "./credentials.ts";
import { sha256Hex } from "./hash.ts";
import type { OidcVerifier } from "./oidc.ts";
import { isSameOrigin, isStateChanging } from "./origin-check.ts";
import type { Principal } from "./principal.ts";
import { clearedSessionCookie, isWellFormedSessionId } from "./session-cookie.ts";

export interface AuthenticatorDeps {
  vault: VaultClient;
  budgets: AdminBudgets;
  cache: AuthCache<Principal>;
  /** Present when SSO is configured. */
  oidc: OidcVerifier | undefined;
  publicOrigin: string | undefined;
  cookieSecure: boolean;
}

/** The vault's UNAUTHENTICATED as the API's 401; anything else unchanged. */
export function vaultRefusal(error: unknown): unknown {
  return isBusError(error, ErrorCode.UNAUTHENTICATED) ? apiErrors.unauthenticated() : error;
}

const is401 = (error: unknown) => error instanceof ApiError && error.status === 401;

/** What a failure says of the credential: a 401 refused it; a 403 (missing scope) accepted it. */
function verdictOf(error: unknown): CredentialVerdict {
  if (is401(error) || isBusError(error, ErrorCode.UNAUTHENTICATED)) return "refused";
  if (error instanceof ApiError && error.status === 403) return "valid";
  return "none";
}

/** Longest user agent sent to the vault with an authentication. */
const userAgentMaxLength = 512;

/** Where the request came from, for the vault's audit event of a refusal. */
const requestCaller = (state: RequestState) => callerContextOf(state, userAgentMaxLength);

export function createAuthenticator(deps: AuthenticatorDeps) {
  const { vault, cache } = deps;

  async function byToken(tokenHash: string, state: RequestState): Promise<Principal> {
    const cached = cache.get(`token:${tokenHash}`);
    if (cached) return cached;
    const reply = await vault
      .call(adminOperations.authenticate, { tokenHash, ...requestCaller(state) })
      .catch((error: unknown) => {
        throw vaultRefusal(error);
      });
    if (!reply.admin?.name) throw new Error("The vault named no admin for a valid token");
    const principal: Principal = { actor: reply.admin.name, method: "token", credential: { tokenHash } };
    cache.set(`token:${tokenHash}`, principal);
    return principal;
  }

  async function bySession(sessionHash: string, state: RequestState): Promise<Principal> {
    const cached = cache.get(`session:${sessionHash}`);
    if (cached) return cached;
    const reply = await vault
      .call(adminOperations.authenticateSession, { sessionHash, ...requestCaller(state) })
      .catch((error: unknown) => {
        throw isBusError(error, ErrorCode.UNAUTHENTICATED)
          ? apiErrors.unauthenticated("The session has expired or ended; sign in again")
          : error;
      });
    if (!reply.admin?.name) throw new Error("The vault named no admin for a valid session");
    const principal: Principal = {
      actor: reply.admin.name,
      method: "session",
      expiresAtMs: reply.expiresAtMs,
      credential: { sessionHash },
    };
    cache.set(`session:${sessionHash}`, principal, reply.expiresAtMs);
    return principal;
  }

  return {
    /** The request's admin; throws ApiError 401, 403 or 429 (or the vault's failure). */
    async authenticate(request: Request, state: RequestState): Promise<Principal> {
      const credential = presentedCredential(request, deps.cookieSecure);
      if (!credential)
        throw apiErrors.unauthenticated("Sign in, or send Authorization: Bearer <admin token>");
      if (credential.kind === "session" && isStateChanging(request.method)) {
        if (!isSameOrigin(request, deps.publicOrigin)) {
          throw apiErrors.forbidden("A cookie-authenticated change must come from the dashboard's origin");
        }
      }
      const method: CredentialMethod = credential.kind === "session" ? "admin-session" : "admin-token";
      try {
        if (credential.kind === "malformed") {
          deps.budgets.malformed(method, state.ipAddress);
          throw apiErrors.unauthenticated(credential.problem);
        }
        if (credential.kind === "session" && !isWellFormedSessionId(credential.id)) {
          deps.budgets.malformed(method, state.ipAddress);
          throw apiErrors.unauthenticated("The session is not valid");
        }
        const secret = credential.kind === "session" ? credential.id : credential.value;
        const hash = sha256Hex(secret);
        const hold = deps.budgets.take(method, hash, state.ipAddress);
        try {
          const principal =
            credential.kind === "session"
              ? await bySession(hash, state)
              : deps.oidc && looksLikeJwt(secret)
                ? await deps.oidc.verify(secret)
                : await byToken(hash, state);
          hold.settle("valid");
          deps.budgets.learn(hash, principal.expiresAtMs);
          return principal;
        } catch (error) {
          const verdict = verdictOf(error);
          hold.settle(verdict);
          if (verdict === "valid") deps.budgets.learn(hash);
          throw error;
        }
      } catch (error) {
        if (credential.kind !== "session" || !is401(error)) throw error;
        const refused = error as ApiError;
        throw apiErrors.unauthenticated(refused.message, {
          "set-cookie": clearedSessionCookie(deps.cookieSecure),
        });
      }
    },

    /** Forgets a cached session (after logout) so this replica stops accepting it at once. */
    forgetSession(sessionHash: string): void {
      cache.delete(`session:${sessionHash}`);
      deps.budgets.forget(sessionHash);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
