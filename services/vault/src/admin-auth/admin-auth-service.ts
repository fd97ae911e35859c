import {
  type AuditEventName,
  BusError,
  ErrorCode,
  AuditEventName as Events,
  invalidArgument,
} from "@secrets/bus";
import type { AdminIdentity } from "@secrets/proto/admin";
import type { AuditRecorder } from "../audit/audit-recorder.ts";
import type { AdminToken } from "../db/schema.ts";
import { hashesMatch } from "../service-tokens/token-hash.ts";
import type { AdminAuthDal } from "./admin-auth-dal.ts";

const hexHash = /^[0-9a-f]{64}$/;

export interface AdminAuthDeps {
  dal: AdminAuthDal;
  recorder: Pick<AuditRecorder, "record">;
  sessionTtlMs: number;
  now?: () => number;
}

interface Caller {
  ipAddress: string;
  userAgent: string;
  requestId: string;
}

const unauthenticated = () => new BusError(ErrorCode.UNAUTHENTICATED, "The admin credentials are not valid");

function checkHash(value: string, field: string): void {
  if (!hexHash.test(value)) throw invalidArgument([{ field, description: "must be a hex SHA-256" }]);
}

function identity(token: AdminToken): AdminIdentity {
  return { adminId: token.id, name: token.name };
}

/**
 * Admin authentication from hashes: a token hash (Authorization header), or a session hash (the
 * dashboard's cookie). Logins and logouts are audited; a revoked token ends its sessions.
 */
export function createAdminAuthService(deps: AdminAuthDeps) {
  const now = deps.now ?? Date.now;

  async function tokenFor(tokenHash: string): Promise<AdminToken | undefined> {
    const row = await deps.dal.findTokenByHash(tokenHash);
    return row && row.revokedAt === null && hashesMatch(row.tokenHash, tokenHash) ? row : undefined;
  }

  async function audit(
    event: AuditEventName,
    success: boolean,
    caller: Caller,
    actor = "",
    reason = "",
    subject = "",
  ) {
    const { ipAddress, userAgent, requestId } = caller;
    await deps.recorder.record({ event, success, actor, reason, subject, ipAddress, userAgent, requestId });
  }

  return {
    /** A refusal is audited (`admin.login`, subject `bearer token`); the admin API's budgets bound how often. */
    async authenticateToken(tokenHash: string, caller: Caller): Promise<AdminIdentity> {
      checkHash(tokenHash, "token_hash");
      const token = await tokenFor(tokenHash);
      if (!token) {
        await audit(Events.adminLogin, false, caller, "", "UNAUTHENTICATED", "bearer token");
        throw unauthenticated();
      }
      await deps.dal.touchToken(token.id);
      return identity(token);
    },

    async createSession(input: Caller & { tokenHash: string; sessionHash: string }) {
      checkHash(input.tokenHash, "token_hash");
      checkHash(input.sessionHash, "session_hash");
      const token = await tokenFor(input.tokenHash);
      if (!token) {
        await audit(Events.adminLogin, false, input, "", "UNAUTHENTICATED", "sign-in");
        throw unauthenticated();
      }
      const expiresAt = new Date(now() + deps.sessionTtlMs);
      await deps.dal.insertSession({ sessionHash: input.sessionHash, adminTokenId: token.id, expiresAt });
      await deps.dal.touchToken(token.id);
      await audit(Events.adminLogin, true, input, token.name);
      return { admin: identity(token), expiresAtMs: expiresAt.getTime() };
    },

    /** A refusal (unknown, expired or ended session) is audited as for a token, subject `session cookie`. */
    async authenticateSession(sessionHash: string, caller: Caller) {
      checkHash(sessionHash, "session_hash");
      const row = await deps.dal.findSession(sessionHash, new Date(now()));
      if (!row) {
        await audit(Events.adminLogin, false, caller, "", "UNAUTHENTICATED", "session cookie");
        throw unauthenticated();
      }
      return { admin: identity(row.token), expiresAtMs: row.session.expiresAt.getTime() };
    },

    /**
     * The admin a token hash or a session hash belongs to, as every admin operation resolves it; undefined
     * for a malformed, unknown, revoked or expired one. Not audited here: the operation's refusal is.
     */
    async adminFor(credential: { tokenHash: string } | { sessionHash: string }): Promise<string | undefined> {
      if ("tokenHash" in credential) {
        if (!hexHash.test(credential.tokenHash)) return undefined;
        return (await tokenFor(credential.tokenHash))?.name;
      }
      if (!hexHash.test(credential.sessionHash)) return undefined;
      return (await deps.dal.findSession(credential.sessionHash, new Date(now())))?.token.name;
    },

    /** Whether the bootstrap token still works: the dashboard warns while it does. Not audited (a flag). */
    async planeStatus(): Promise<{ bootstrapTokenActive: boolean; bootstrapAdminName: string }> {
      const bootstrap = await deps.dal.findActiveBootstrapToken();
      return { bootstrapTokenActive: bootstrap !== undefined, bootstrapAdminName: bootstrap?.name ?? "" };
    },

    async endSession(input: Caller & { sessionHash: string }): Promise<void> {
      checkHash(input.sessionHash, "session_hash");
      const row = await deps.dal.findSession(input.sessionHash, new Date(now()));
      await deps.dal.deleteSession(input.sessionHash);
      if (row) await audit(Events.adminLogout, true, input, row.token.name);
    },
  };
}

export type AdminAuthService = ReturnType<typeof createAdminAuthService>;
