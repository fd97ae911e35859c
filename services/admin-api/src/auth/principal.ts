import type { AdminCredential } from "@secrets/proto/admin";

/** The authenticated admin of one request. */
export interface Principal {
  /** What the vault records as created_by, approved_by, granted_by: the admin's name, or `oidc:<sub>`. */
  actor: string;
  /** How the request authenticated. */
  method: "token" | "session" | "oidc";
  /** When the credential stops working (session expiry, JWT `exp`); undefined for admin tokens. */
  expiresAtMs?: number;
  /**
   * What every admin operation carries to the vault, which resolves the admin from it: the token's or the
   * session id's SHA-256, or the JWT. `actor` is for this process's log only.
   */
  credential: AdminCredential;
}
