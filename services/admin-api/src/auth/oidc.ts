/**
 * Single sign-on: a Bearer JWT from the configured OIDC issuer authenticates an admin when its signature
 * (keys from the issuer's JWKS), issuer, audience and lifetime check out and it carries the admin scope.
 * The actor recorded by the vault is `oidc:<sub>`.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from "jose";
import { ApiError, apiErrors } from "../http/api-error.ts";
import { boundedFetch, isSafeIdentityProviderUrl } from "./oidc-fetch.ts";
import type { Principal } from "./principal.ts";

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Unset: discovered from `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string | undefined;
  /** The scope an admin's token must carry (`scope` string or `scp` array). */
  adminScope: string;
  /** The JWT `alg` values accepted (ADMIN_OIDC_ALGORITHMS); a token signed otherwise is refused. */
  algorithms: readonly string[];
}

export interface OidcVerifier {
  /** The admin the JWT names; throws ApiError 401 (invalid), 403 (no admin scope) or 503 (IdP down). */
  verify(jwt: string): Promise<Principal>;
}

/** Failures that say the identity provider could not be asked, not that the token is bad. */
const unreachableCodes = new Set(["ERR_JWKS_TIMEOUT", "ERR_JOSE_GENERIC", "ERR_JWKS_INVALID"]);
const actorMaxLength = 128;
/** A discovery document is a few KiB; a JWKS holds a handful of keys. Anything larger is refused. */
const discoveryMaxBytes = 64 * 1024;
const jwksMaxBytes = 256 * 1024;

async function discoverJwksUrl(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await boundedFetch(url, { signal: AbortSignal.timeout(5_000) }, discoveryMaxBytes);
  if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (document.issuer !== issuer) throw new Error("OIDC discovery names another issuer");
  if (typeof document.jwks_uri !== "string") throw new Error("OIDC discovery has no jwks_uri");
  if (!isSafeIdentityProviderUrl(document.jwks_uri)) {
    throw new Error("OIDC discovery names a jwks_uri that is not https (or loopback)");
  }
  return new URL(document.jwks_uri);
}

function scopes(payload: JWTPayload): string[] {
  const scope = payload.scope;
  const scp = payload.scp;
  const fromScope = typeof scope === "string" ? scope.split(" ") : [];
  const fromScp = Array.isArray(scp) ? scp.filter((s) => typeof s === "string") : [];
  return [...fromScope, ...fromScp, ...(typeof scp === "string" ? scp.split(" ") : [])];
}

export function createOidcVerifier(settings: OidcSettings): OidcVerifier {
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  function keys() {
    keySet ??= (
      settings.jwksUrl ? Promise.resolve(new URL(settings.jwksUrl)) : discoverJwksUrl(settings.issuer)
    )
      .then((url) =>
        createRemoteJWKSet(url, {
          [customFetch]: (href, init) => boundedFetch(href, init, jwksMaxBytes),
        }),
      )
      .catch((error: unknown) => {
        keySet = undefined;
        throw apiErrors.identityProviderUnavailable(error);
      });
    return keySet;
  }

  return {
    async verify(jwt) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(jwt, await keys(), {
          issuer: settings.issuer,
          audience: settings.audience,
          requiredClaims: ["sub", "exp"],
          algorithms: [...settings.algorithms],
          clockTolerance: 5,
        }));
      } catch (error) {
        if (error instanceof ApiError) throw error;
        if (!(error instanceof errors.JOSEError) || unreachableCodes.has(error.code)) {
          throw apiErrors.identityProviderUnavailable(error);
        }
        throw apiErrors.unauthenticated("The admin JWT is not valid for this API");
      }
      const actor = `oidc:${payload.sub}`;
      if (actor.length > actorMaxLength) throw apiErrors.unauthenticated("The JWT's subject is too long");
      if (!scopes(payload).includes(settings.adminScope)) {
        throw apiErrors.forbidden(`The JWT does not carry the "${settings.adminScope}" scope`);
      }
      return { actor, method: "oidc", expiresAtMs: (payload.exp ?? 0) * 1000 };
    },
  };
}
