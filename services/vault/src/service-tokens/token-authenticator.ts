import { BusError, ErrorCode, Reason } from "@secrets/bus";
import type { ServiceToken } from "../db/schema.ts";
import type { ServiceTokensDal } from "./service-tokens-dal.ts";
import { hashesMatch, presentedTokenHash } from "./token-hash.ts";

/** An approved token's identity: the service name its access requests belong to. */
export interface AuthenticatedService {
  tokenId: string;
  serviceName: string;
}

/**
 * Resolves a presented token to its service. Unknown → UNAUTHENTICATED; pending → PERMISSION_DENIED
 * TOKEN_PENDING_APPROVAL; denied or revoked → PERMISSION_DENIED TOKEN_DENIED. The service name of a known
 * token is returned with the refusal so the audit event can name it.
 */
export function createTokenAuthenticator(deps: { serviceTokens: Pick<ServiceTokensDal, "findByHash"> }) {
  return async function authenticate(
    token: string,
  ): Promise<
    { ok: true; service: AuthenticatedService } | { ok: false; error: BusError; serviceName: string }
  > {
    const hash = presentedTokenHash(token);
    const row: ServiceToken | undefined = await deps.serviceTokens.findByHash(hash);
    if (!row || !hashesMatch(row.tokenHash, hash)) {
      return {
        ok: false,
        serviceName: "",
        error: new BusError(ErrorCode.UNAUTHENTICATED, "The service token is not registered"),
      };
    }
    if (row.status === "approved")
      return { ok: true, service: { tokenId: row.id, serviceName: row.serviceName } };
    if (row.status === "pending") {
      return {
        ok: false,
        serviceName: row.serviceName,
        error: new BusError(
          ErrorCode.PERMISSION_DENIED,
          `The token of service "${row.serviceName}" is waiting for an admin to approve it`,
          { reason: Reason.TOKEN_PENDING_APPROVAL },
        ),
      };
    }
    return {
      ok: false,
      serviceName: row.serviceName,
      error: new BusError(
        ErrorCode.PERMISSION_DENIED,
        `The token of service "${row.serviceName}" was ${row.status}`,
        {
          reason: Reason.TOKEN_DENIED,
        },
      ),
    };
  };
}

export type TokenAuthenticator = ReturnType<typeof createTokenAuthenticator>;
