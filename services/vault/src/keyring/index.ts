/**
 * The vault's keyring: encryption at rest for secret values. Only the vault imports this module; no
 * other process may hold key material (see ARCHITECTURE.md, security invariants).
 */
export { DecryptionError, DecryptionFailure, KeyFileError, KeyringError } from "./errors.ts";
export { keyFileName } from "./key-file.ts";
export { type Keyring, type KeyringOptions, loadOrCreateKeyring } from "./keyring.ts";
export { loadMasterKey } from "./master-key.ts";
export { loadOrCreateSealingKey, sealingKeyFileName } from "./sealing-key.ts";
