/** The keyring's errors. None of their messages contains key material or plaintext. */

/** Why an envelope could not be decrypted. */
export const DecryptionFailure = {
  truncated: "truncated",
  unsupportedVersion: "unsupported-version",
  unknownKey: "unknown-key",
  /** Wrong key, wrong secret id, or altered bytes: AES-GCM cannot tell these apart, by design. */
  authentication: "authentication",
} as const;
export type DecryptionFailure = (typeof DecryptionFailure)[keyof typeof DecryptionFailure];

/** An envelope that this keyring cannot open. */
export class DecryptionError extends Error {
  override readonly name = "DecryptionError";
  constructor(
    readonly reason: DecryptionFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The key file is missing pieces, malformed, or too widely readable. Names the file, never its content. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A keyring operation that was refused, such as retiring the current key. */
export class KeyringError extends Error {
  override readonly name = "KeyringError";
}
