/**
 * Free text that services send (descriptions, versions, user agents) is shown to admins and written to the
 * audit trail. Unicode control (Cc) and format (Cf) characters in it can steer a terminal (U+009B is a C1
 * CSI that starts an escape sequence) or reorder what an admin reads (U+202E RIGHT-TO-LEFT OVERRIDE makes
 * `gpj.exe` look like `exe.jpg`), so they are removed before the text is stored or audited.
 */

const controlAndFormat = /[\p{Cc}\p{Cf}]/gu;
/** The same, but tab and line feed survive: a multi-line description may hold them. */
const controlAndFormatButLineBreaks = /(?![\t\n])[\p{Cc}\p{Cf}]/gu;

/**
 * Removes every Unicode Cc and Cf character; with `keepLineBreaks`, tab and line feed stay.
 *
 * @example
 * stripControlAndFormat("grpc-node\u202Egnp.exe") // "grpc-nodegnp.exe"
 * stripControlAndFormat("line one\nline two", { keepLineBreaks: true }) // unchanged
 */
export function stripControlAndFormat(text: string, options: { keepLineBreaks?: boolean } = {}): string {
  return text.replace(options.keepLineBreaks ? controlAndFormatButLineBreaks : controlAndFormat, "");
}

/**
 * The short form of a service token an admin compares: the first 8 hex characters of its SHA-256, which
 * the vault stores and the SDK logs at start-up. It tells tokens of one service apart; it is no secret and
 * proves nothing on its own.
 *
 * @example
 * tokenFingerprint("ab12cd34ef...") // "ab12cd34"
 */
export function tokenFingerprint(tokenSha256Hex: string): string {
  return tokenSha256Hex.slice(0, 8).toLowerCase();
}

/**
 * `text` cut to its first `maxLength` UTF-16 units, with `cutMarker` appended only when something was cut
 * (so a reader can tell a clipped text from a whole one when the marker is given).
 *
 * @example
 * clip("connection refused by 10.0.0.1", 10, "…") // "connection…"
 * clip("payments", 256) // "payments"
 */
export function clip(text: string, maxLength: number, cutMarker = ""): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}${cutMarker}` : text;
}
