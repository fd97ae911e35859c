/**
 * Dashboard sessions. Login exchanges an admin token for a random session id: the vault receives only
 * both hashes, the browser only the session id (in an HttpOnly cookie). Logout ends it in the vault and
 * in this replica's cache at once.
 */
import { adminOperations } from "@secrets/bus";
import type { AdminContext } from "@secrets/proto/admin";
import type { AdminBudgets } from "../auth/admin-budgets.ts";
import { type Authenticator, vaultRefusal } from "../auth/authenticator.ts";
import { sha256Hex } from "../auth/hash.ts";
import { isSameOrigin } from "../auth/origin-check.ts";
import type { Principal } from "../auth/principal.ts";
import {
  clearedSessionCookie,
  isWellFormedSessionId,
  newSessionId,
  readSessionId,
  sessionCookie,
} from "../auth/session-cookie.ts";
import { ApiError, apiErrors } from "../http/api-error.ts";
import type { RequestState } from "../http/request-state.ts";
import { isoOrNull } from "../shared/paging.ts";
import type { VaultClient } from "../vault/vault-client.ts";
import type { CurrentSessionView } from "./model.ts";

export interface SessionServiceDeps {
  vault: VaultClient;
  budgets: AdminBudgets;
  authenticator: Pick<Authenticator, "forgetSession">;
  cookieSecure: boolean;
  publicOrigin: string | undefined;
  now: () => number;
}

export function createSessionService(deps: SessionServiceDeps) {
  const { vault } = deps;
  const caller = (state: RequestState) => ({
    ipAddress: state.ipAddress,
    userAgent: state.userAgent.slice(0, 512),
    requestId: state.requestId,
  });

  return {
    /** Signs in: the session for the reply and the Set-Cookie value. */
    async login(request: Request, state: RequestState, token: string) {
      // Browsers send Origin on every POST: a sign-in from another site is refused (login CSRF).
      if (request.headers.has("origin") && !isSameOrigin(request, deps.publicOrigin)) {
        throw apiErrors.forbidden("Sign in from the dashboard's own origin");
      }
      if (token === "") {
        deps.budgets.malformed("admin-login", state.ipAddress);
        throw apiErrors.unauthenticated("Send an admin token to sign in");
      }
      const tokenHash = sha256Hex(token);
      const hold = deps.budgets.take("admin-login", tokenHash, state.ipAddress);
      try {
        deps.budgets.takeLogin(tokenHash, state.ipAddress);
        const sessionId = newSessionId();
        const sessionHash = sha256Hex(sessionId);
        const reply = await vault
          .call(adminOperations.createSession, { tokenHash, sessionHash, ...caller(state) })
          .catch((error: unknown) => {
            throw vaultRefusal(error);
          });
        if (!reply.admin?.name) throw new Error("The vault named no admin for a new session");
        hold.settle("valid");
        deps.budgets.learn(tokenHash);
        deps.budgets.learn(sessionHash, reply.expiresAtMs);
        state.principal = {
          actor: reply.admin.name,
          method: "session",
          expiresAtMs: reply.expiresAtMs,
          credential: { sessionHash },
        };
        const maxAgeSeconds = (reply.expiresAtMs - deps.now()) / 1000;
        return {
          session: { admin: { name: reply.admin.name }, expiresAt: isoOrNull(reply.expiresAtMs) },
          cookie: sessionCookie(sessionId, maxAgeSeconds, deps.cookieSecure),
        };
      } catch (error) {
        hold.settle(error instanceof ApiError && error.status === 401 ? "refused" : "none");
        throw error;
      }
    },

    /** Ends the request's cookie session, if any; returns the Set-Cookie value that clears it. */
    async logout(request: Request, state: RequestState): Promise<string> {
      const sessionId = readSessionId(request, deps.cookieSecure);
      if (sessionId !== undefined && isWellFormedSessionId(sessionId)) {
        const sessionHash = sha256Hex(sessionId);
        await vault.call(adminOperations.endSession, { sessionHash, ...caller(state) });
        deps.authenticator.forgetSession(sessionHash);
      }
      return clearedSessionCookie(deps.cookieSecure);
    },

    async current(principal: Principal, admin: AdminContext): Promise<CurrentSessionView> {
      const status = await vault.call(adminOperations.adminPlaneStatus, { admin });
      return {
        admin: { name: principal.actor },
        expiresAt: isoOrNull(principal.expiresAtMs),
        bootstrapTokenActive: status.bootstrapTokenActive,
      };
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
