/**
 * Fresh tokens in the shapes the services accept: 32 random bytes, base64url (43 characters).
 */

/** A service token, as an SDK generates one before registering it. */
export function newServiceToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** An admin token: `ssadm_` and a random part, as `bun run admin:token` prints one. */
export function newAdminToken(): string {
  return `ssadm_${newServiceToken()}`;
}
