/**
 * The vault's own check of an admin's OIDC JWT (`@secrets/oidc`, with the same ADMIN_OIDC_* settings as the
 * admin API): the signature by the issuer's JWKS, issuer, audience, lifetime and admin scope. A refusal is
 * a BusError: UNAUTHENTICATED (not valid), PERMISSION_DENIED (no admin scope) or UNAVAILABLE (the identity
 * provider cannot be reached).
 */
import { BusError, ErrorCode } from "@secrets/bus";
import { createOidcVerifier, OidcRefusal, type OidcRefusalKind, type OidcSettings } from "@secrets/oidc";
import type { AdminJwtVerifier } from "./admin-resolver.ts";

const refusalCodes: Record<OidcRefusalKind, ErrorCode> = {
  invalid: ErrorCode.UNAUTHENTICATED,
  "missing-scope": ErrorCode.PERMISSION_DENIED,
  unavailable: ErrorCode.UNAVAILABLE,
};

export function createAdminJwtVerifier(settings: OidcSettings): AdminJwtVerifier {
  const verifier = createOidcVerifier(settings);
  return {
    async actorOf(jwt) {
      try {
        return (await verifier.verify(jwt)).actor;
      } catch (error) {
        if (!(error instanceof OidcRefusal)) throw error;
        throw new BusError(refusalCodes[error.kind], error.message, { cause: error });
      }
    },
  };
}
