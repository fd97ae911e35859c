/**
 * Single sign-on: a JWT from the configured OIDC issuer authenticates an admin when its signature (keys
 * from the issuer's JWKS), issuer, audience and lifetime check out and it carries the admin scope. The
 * actor recorded by the vault is `oidc:<sub>`. No transport here: refusals are `OidcRefusal`s that each
 * caller maps to its own errors.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from "jose";
import { boundedFetch, isSafeIdentityProviderUrl } from "./identity-provider-fetch.ts";
import { OidcRefusal } from "./refusal.ts";

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

/** A JWT that authenticates an admin. */
export interface OidcVerification {
  /** The issuer the JWT was verified against (its `iss`). */
  issuer: string;
  /** The JWT's `sub`. */
  subject: string;
  /** `oidc:<sub>`, at most `oidcActorMaxLength` characters: the name the vault records. */
  actor: string;
  /** Every claim of the verified JWT (`exp` for its lifetime). */
  payload: JWTPayload;
}

export interface OidcVerifier {
  /** The admin the JWT names; throws an OidcRefusal (invalid, missing-scope or unavailable). */
  verify(jwt: string): Promise<OidcVerification>;
}

/** The longest actor accepted, so that an `oidc:<sub>` fits where the vault records an admin's name. */
export const oidcActorMaxLength = 128;

/** Failures that say the identity provider could not be asked, not that the token is bad. */
const unreachableCodes = new Set(["ERR_JWKS_TIMEOUT", "ERR_JOSE_GENERIC", "ERR_JWKS_INVALID"]);
/** A discovery document is a few KiB; a JWKS holds a handful of keys. Anything larger is refused. */
const discoveryMaxBytes = 64 * 1024;
const jwksMaxBytes = 256 * 1024;
const unavailableMessage = "The identity provider cannot be reached";

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

/** The scopes a JWT carries: a space-separated `scope`, or `scp` as an array or a string. */
export function scopesOf(payload: JWTPayload): string[] {
  const scope = payload.scope;
  const scp = payload.scp;
  const fromScope = typeof scope === "string" ? scope.split(" ") : [];
  const fromScp = Array.isArray(scp) ? scp.filter((s) => typeof s === "string") : [];
  return [...fromScope, ...fromScp, ...(typeof scp === "string" ? scp.split(" ") : [])];
}

/**
 * A verifier for one issuer. The JWKS (or the discovery document naming it) is fetched on first use and
 * kept; a failed fetch is forgotten, so the next JWT asks again.
 *
 * @example
 * const verifier = createOidcVerifier({ issuer, audience, adminScope: "admin", algorithms: ["ES256"] });
 * const { actor } = await verifier.verify(jwt); // "oidc:user-42", or throws an OidcRefusal
 */
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
        throw new OidcRefusal("unavailable", unavailableMessage, { cause: error });
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
        if (error instanceof OidcRefusal) throw error;
        if (!(error instanceof errors.JOSEError) || unreachableCodes.has(error.code)) {
          throw new OidcRefusal("unavailable", unavailableMessage, { cause: error });
        }
        throw new OidcRefusal("invalid", "The admin JWT is not valid for this API");
      }
      // jose checks that `sub` is present, not that it is a string: the template reads it as given.
      const subject = `${payload.sub}`;
      const actor = `oidc:${subject}`;
      if (actor.length > oidcActorMaxLength)
        throw new OidcRefusal("invalid", "The JWT's subject is too long");
      if (!scopesOf(payload).includes(settings.adminScope)) {
        throw new OidcRefusal("missing-scope", `The JWT does not carry the "${settings.adminScope}" scope`);
      }
      return { issuer: settings.issuer, subject, actor, payload };
    },
  };
}
