/**
 * @secrets/vault: the only process with the database and the keys. Other code must not import this
 * package (a test over the import graph enforces it); the embedded mode is the one exception.
 */

export { createAdminJwtVerifier } from "./admin/admin-jwt.ts";
export {
  keyRotationOptions,
  parseVaultConfig,
  pendingExpiryOptions,
  pendingLimitsOptions,
  type VaultConfig,
  vaultConfigSpec,
} from "./config.ts";
export { securePrivateDataDir } from "./data-dir/private-data-dir.ts";
export { openDatabase } from "./db/connection.ts";
export { loadMasterKey, loadOrCreateKeyring, loadOrCreateSealingKey } from "./keyring/index.ts";
export { type RunningVault, startVault, type VaultDeps, type VaultOptions } from "./vault.ts";
