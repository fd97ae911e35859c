/** Why a JWT did not verify. The vault and the admin API each map these to their own errors. */
export const OidcRefusalKind = {
  /** The signature, issuer, audience, algorithm, lifetime or subject does not check out. */
  invalid: "invalid",
  /** A valid JWT that does not carry the admin scope. */
  missingScope: "missing-scope",
  /** The identity provider (discovery or JWKS) could not be asked: nothing is known about the JWT. */
  unavailable: "unavailable",
} as const;
export type OidcRefusalKind = (typeof OidcRefusalKind)[keyof typeof OidcRefusalKind];

/**
 * A JWT that does not authenticate an admin. The message is written for the admin and never contains
 * the token or any of its claims; for `unavailable`, `cause` holds what failed.
 */
export class OidcRefusal extends Error {
  override readonly name = "OidcRefusal";
  constructor(
    readonly kind: OidcRefusalKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
