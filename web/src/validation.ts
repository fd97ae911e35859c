/**
 * The admin API's input rules for a secret (`packages/validation`), mirrored for messages next to the
 * fields before anything is sent. The API checks again and its 422 `fields` are shown the same way.
 * Kept in step with the originals by a test in `test/e2e/dashboard.test.ts`.
 */

export const secretNamePattern = /^[A-Z][A-Z0-9_]{0,127}$/;
/** The longest name `secretNamePattern` allows, for the name field's `maxlength`. */
export const nameMaxLength = 128;
export const descriptionMaxBytes = 1024;
export const valueMaxBytes = 64 * 1024;

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) return true;
  }
  return false;
}

/** A message for the field, or undefined when it is valid. */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "Enter a name";
  if (name.length > nameMaxLength) return `Use at most ${nameMaxLength} characters`;
  if (!/^[A-Z]/.test(name)) return "Start with an upper-case letter (A–Z)";
  if (!secretNamePattern.test(name))
    return "Use only upper-case letters, digits and _ (like an env variable)";
  return undefined;
}

export function descriptionProblem(description: string): string | undefined {
  if (utf8Length(description) > descriptionMaxBytes)
    return `Use at most ${descriptionMaxBytes} bytes (1 KiB); this is ${utf8Length(description)}`;
  if (hasControlCharacters(description)) return "Remove control characters (tabs and new lines are fine)";
  return undefined;
}

export function valueProblem(value: string): string | undefined {
  if (utf8Length(value) > valueMaxBytes) return "Use at most 64 KiB of UTF-8";
  if (value.includes("\u0000")) return "Remove NUL characters";
  return undefined;
}
