/**
 * Who is asking: an admin token (Bearer; only its SHA-256 goes to the vault), an OIDC JWT (Bearer,
 * verified here), or the dashboard's session cookie (only the session id's SHA-256 goes to the vault).
 * Successes are cached briefly; failures count against the client address's budget.
 */
import { adminOperations, ErrorCode, isBusError } from "@secrets/bus";
import { ApiError, apiErrors } from "../http/api-error.ts";
import type { RequestState } from "../http/request-state.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type { AuthCache } from "./auth-cache.ts";
import { looksLikeJwt, presentedCredential } from "./credentials.ts";
import { sha256Hex } from "./hash.ts";
import type { OidcVerifier } from "./oidc.ts";
import { isSameOrigin, isStateChanging } from "./origin-check.ts";
import type { Principal } from "./principal.ts";
import { clearedSessionCookie, isWellFormedSessionId } from "./session-cookie.ts";
import type { AuthThrottle } from "./throttle.ts";

export interface AuthenticatorDeps {
  vault: VaultClient;
  throttle: AuthThrottle;
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

export function createAuthenticator(deps: AuthenticatorDeps) {
  const { vault, cache } = deps;

  async function byToken(token: string): Promise<Principal> {
    const tokenHash = sha256Hex(token);
    const cached = cache.get(`token:${tokenHash}`);
    if (cached) return cached;
    const reply = await vault.call(adminOperations.authenticate, { tokenHash }).catch((error: unknown) => {
      throw vaultRefusal(error);
    });
    if (!reply.admin?.name) throw new Error("The vault named no admin for a valid token");
    const principal: Principal = { actor: reply.admin.name, method: "token" };
    cache.set(`token:${tokenHash}`, principal);
    return principal;
  }

  async function bySession(sessionId: string): Promise<Principal> {
    if (!isWellFormedSessionId(sessionId)) throw apiErrors.unauthenticated("The session is not valid");
    const sessionHash = sha256Hex(sessionId);
    const cached = cache.get(`session:${sessionHash}`);
    if (cached) return cached;
    const reply = await vault
      .call(adminOperations.authenticateSession, { sessionHash })
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
    };
    cache.set(`session:${sessionHash}`, principal, reply.expiresAtMs);
    return principal;
  }

  return {
    /** The request's admin; throws ApiError 401, 403 or 429 (or the vault's failure). */
    async authenticate(request: Request, state: RequestState): Promise<Principal> {
      const credential = presentedCredential(request);
      if (!credential)
        throw apiErrors.unauthenticated("Sign in, or send Authorization: Bearer <admin token>");
      if (credential.kind === "session" && isStateChanging(request.method)) {
        if (!isSameOrigin(request, deps.publicOrigin)) {
          throw apiErrors.forbidden("A cookie-authenticated change must come from the dashboard's origin");
        }
      }
      deps.throttle.beforeCredentialCheck(state.ipAddress);
      try {
        if (credential.kind === "malformed") throw apiErrors.unauthenticated(credential.problem);
        if (credential.kind === "session") return await bySession(credential.id);
        if (deps.oidc && looksLikeJwt(credential.value)) return await deps.oidc.verify(credential.value);
        return await byToken(credential.value);
      } catch (error) {
        if (!is401(error)) throw error;
        deps.throttle.failed(state.ipAddress);
        if (credential.kind !== "session") throw error;
        const refused = error as ApiError;
        throw apiErrors.unauthenticated(refused.message, {
          "set-cookie": clearedSessionCookie(deps.cookieSecure),
        });
      }
    },

    /** Forgets a cached session (after logout) so this replica stops accepting it at once. */
    forgetSession(sessionHash: string): void {
      cache.delete(`session:${sessionHash}`);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
