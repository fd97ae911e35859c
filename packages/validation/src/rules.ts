/**
 * The input rules shared by every boundary: the gateway and the admin API check them for a clear error
 * close to the caller, and the vault checks them again on the bus.
 */

/** Upper-case, digits and underscores, starting with a letter: the shape of an environment variable. */
export const secretNamePattern = /^[A-Z][A-Z0-9_]{0,127}$/;

/** A service name: lower-case, digits, `.`, `_` and `-`. Access requests belong to it. */
export const serviceNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** base64url without padding. */
export const tokenAlphabet = /^[A-Za-z0-9_-]+$/;

export const limits = {
  /** 256 random bits in base64url. */
  tokenMinLength: 43,
  tokenMaxBytes: 512,
  descriptionMaxBytes: 1024,
  serviceVersionMaxLength: 64,
  /** A secret value, in bytes of UTF-8. */
  valueMaxBytes: 64 * 1024,
  actorMaxLength: 128,
} as const;

export interface Violation {
  field: string;
  description: string;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Control characters other than tab and newline; never valid in names or descriptions. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) return true;
  }
  return false;
}

export function checkSecretName(name: string, field = "secret_name"): Violation[] {
  if (name === "") return [{ field, description: "is required" }];
  if (!secretNamePattern.test(name)) {
    return [{ field, description: `must match ${secretNamePattern.source} (upper-case letters, digits, _)` }];
  }
  return [];
}

export function checkServiceName(name: string, field = "service_name"): Violation[] {
  if (name === "") return [{ field, description: "is required" }];
  if (!serviceNamePattern.test(name)) {
    return [
      { field, description: `must match ${serviceNamePattern.source} (lower-case letters, digits, . _ -)` },
    ];
  }
  return [];
}

export function checkDescription(description: string, field = "description"): Violation[] {
  if (utf8Length(description) > limits.descriptionMaxBytes) {
    return [{ field, description: `must be at most ${limits.descriptionMaxBytes} bytes` }];
  }
  if (hasControlCharacters(description))
    return [{ field, description: "must not contain control characters" }];
  return [];
}

/** A token presented for authentication: present and of a sane size (its shape is the vault's business). */
export function checkPresentedToken(token: string, field = "token"): Violation[] {
  if (token === "") return [{ field, description: "is required (metadata `authorization: Bearer <token>`)" }];
  if (utf8Length(token) > limits.tokenMaxBytes) {
    return [{ field, description: `must be at most ${limits.tokenMaxBytes} bytes` }];
  }
  return [];
}

/** A token being registered: at least 256 bits of base64url. */
export function checkNewToken(token: string, field = "token"): Violation[] {
  const presented = checkPresentedToken(token, field);
  if (presented.length > 0) return presented;
  if (token.length < limits.tokenMinLength) {
    return [
      {
        field,
        description: `must be at least ${limits.tokenMinLength} characters (256 random bits, base64url)`,
      },
    ];
  }
  if (!tokenAlphabet.test(token)) return [{ field, description: "must be base64url (A-Z a-z 0-9 - _)" }];
  return [];
}

export function checkServiceVersion(version: string, field = "service_version"): Violation[] {
  if (version.length > limits.serviceVersionMaxLength || hasControlCharacters(version)) {
    return [{ field, description: `must be at most ${limits.serviceVersionMaxLength} printable characters` }];
  }
  return [];
}

export function checkValue(value: string, field = "value"): Violation[] {
  if (utf8Length(value) > limits.valueMaxBytes) {
    return [{ field, description: `must be at most ${limits.valueMaxBytes} bytes of UTF-8` }];
  }
  if (value.includes("\u0000")) return [{ field, description: "must not contain NUL characters" }];
  return [];
}
