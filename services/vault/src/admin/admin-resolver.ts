/**
 * Who an admin operation's admin is, decided here from the credential it carries, never from a name the
 * caller sends: an admin token's or a session's hash (looked up as the vault stores them), or an OIDC JWT
 * (verified by the vault itself). A client of the bus holding the admin API's credentials but no admin's
 * cannot act as an admin. A refused operation is audited under its own event, without an actor.
 */
import { type AuditEventName, BusError, ErrorCode } from "@secrets/bus";
import type { AdminContext, AdminCredential } from "@secrets/proto/admin";
import type { AdminAuthService } from "../admin-auth/admin-auth-service.ts";
import { type AuditRecorder, refusalReason } from "../audit/audit-recorder.ts";
import type { Admin } from "./admin-context.ts";

/** Verifies an admin's OIDC JWT; resolves with `oidc:<sub>`, rejects with a BusError. */
export interface AdminJwtVerifier {
  actorOf(jwt: string): Promise<string>;
}

export interface AdminResolverDeps {
  adminAuth: Pick<AdminAuthService, "adminFor">;
  /** Present when ADMIN_OIDC_* is configured: without it, a JWT is refused. */
  jwt: AdminJwtVerifier | undefined;
  recorder: Pick<AuditRecorder, "record">;
}

/** Longest request id and user agent taken from the caller: they are recorded, never trusted. */
const requestIdMaxLength = 128;
const userAgentMaxLength = 512;
const ipAddressMaxLength = 64;

const unauthenticated = () => new BusError(ErrorCode.UNAUTHENTICATED, "The admin credentials are not valid");

export type ResolveAdmin = (context: AdminContext | undefined, event: AuditEventName) => Promise<Admin>;

export function createAdminResolver(deps: AdminResolverDeps): ResolveAdmin {
  async function actorOf(credential: AdminCredential | undefined): Promise<string | undefined> {
    if (credential?.tokenHash !== undefined)
      return deps.adminAuth.adminFor({ tokenHash: credential.tokenHash });
    if (credential?.sessionHash !== undefined)
      return deps.adminAuth.adminFor({ sessionHash: credential.sessionHash });
    if (credential?.oidcToken !== undefined) {
      if (!deps.jwt) return undefined;
      return deps.jwt.actorOf(credential.oidcToken);
    }
    return undefined;
  }

  return async (context, event) => {
    const caller = {
      requestId: (context?.requestId ?? "").slice(0, requestIdMaxLength),
      ipAddress: (context?.ipAddress ?? "").slice(0, ipAddressMaxLength),
      userAgent: (context?.userAgent ?? "").slice(0, userAgentMaxLength),
    };
    let actor: string | undefined;
    let refusal: BusError = unauthenticated();
    try {
      actor = await actorOf(context?.credential);
    } catch (error) {
      if (!(error instanceof BusError)) throw error;
      refusal = error;
    }
    if (actor) return { actor, ...caller };
    await deps.recorder.record({
      event,
      success: false,
      reason: refusalReason(refusal),
      subject: "admin credentials",
      ...caller,
    });
    throw refusal;
  };
}
