/**
 * Admins' OIDC JWTs, verified without a transport: the admin API and the vault each map an `OidcRefusal`
 * to their own errors, and both read the ADMIN_OIDC_* variables through `oidcConfigFields`.
 */
export { type OidcConfig, oidcConfigChecks, oidcConfigFields, oidcSettingsFromConfig } from "./config.ts";
export { boundedFetch, isSafeIdentityProviderUrl, ResponseTooLargeError } from "./identity-provider-fetch.ts";
export { OidcRefusal, OidcRefusalKind } from "./refusal.ts";
export {
  createOidcVerifier,
  type OidcSettings,
  type OidcVerification,
  type OidcVerifier,
  oidcActorMaxLength,
  scopesOf,
} from "./verifier.ts";
