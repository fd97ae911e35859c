/** How a request naming several secrets is written in the one `secret_name` field of its audit event. */

/**
 * The audit's `secret_name` for a set of names: the name itself for one, else as many whole names as fit
 * in `maxLength`, then how many more there were.
 *
 * @example
 * describeNames(["A", "B", "C"]) // "A,B,C"
 */
export function describeNames(names: readonly string[], maxLength = 256): string {
  let text = "";
  for (const [index, name] of names.entries()) {
    const rest = names.length - index;
    const next = text === "" ? name : `${text},${name}`;
    const suffix = rest > 1 ? ` (+${rest - 1} more)` : "";
    if (next.length + suffix.length > maxLength) return `${text} (+${rest} more)`;
    text = next;
  }
  return text;
}
