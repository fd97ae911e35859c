/**
 * Single sign-on: a Bearer JWT verified by `@secrets/oidc` authenticates an admin as `oidc:<sub>`. This
 * file maps the verifier's refusals to the admin API's errors: 401 invalid, 403 without the admin scope,
 * 503 while the identity provider cannot be reached.
 */
import * as oidc from "@secrets/oidc";
import { type ApiError, apiErrors } from "../http/api-error.ts";
import type { Principal } from "./principal.ts";

export interface OidcVerifier {
  /** The admin the JWT names; throws ApiError 401 (invalid), 403 (no admin scope) or 503 (IdP down). */
  verify(jwt: string): Promise<Principal>;
}

const refusalToApiError: Record<oidc.OidcRefusalKind, (refusal: oidc.OidcRefusal) => ApiError> = {
  invalid: (refusal) => apiErrors.unauthenticated(refusal.message),
  "missing-scope": (refusal) => apiErrors.forbidden(refusal.message),
  unavailable: (refusal) => apiErrors.identityProviderUnavailable(refusal.cause),
};

export function createOidcVerifier(settings: oidc.OidcSettings): OidcVerifier {
  const verifier = oidc.createOidcVerifier(settings);
  return {
    async verify(jwt) {
      try {
        const { actor, payload } = await verifier.verify(jwt);
        return {
          actor,
          method: "oidc",
          expiresAtMs: (payload.exp ?? 0) * 1000,
          credential: { oidcToken: jwt },
        };
      } catch (error) {
        throw error instanceof oidc.OidcRefusal ? refusalToApiError[error.kind](error) : error;
      }
    },
  };
}
