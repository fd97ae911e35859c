/**
 * Searching collected output for secrets: each secret in the forms it could take once it leaves a process
 * (UTF-8, JSON-escaped, hex, base64 and base64url at each byte alignment), in text or raw bytes.
 *
 * @example
 * const leaks = findLeaks([{ name: "admin-api log", data: lines.join("\n") }], { value, serviceToken });
 * expect(leaks).toEqual([]);
 */

export interface Haystack {
  /** Where it came from, for the failure message ("bus secrets.v1.vault.admin.put-secret", "pg_dump"). */
  name: string;
  data: string | Uint8Array;
}

/** The base64 characters that depend only on `bytes` when they sit `offset` bytes into a longer buffer. */
function base64Core(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
  const firstBit = offset * 8;
  const endBit = (offset + bytes.length) * 8;
  const first = Math.ceil(firstBit / 6);
  const last = Math.floor(endBit / 6); // exclusive: characters whose 6 bits all lie within `bytes`
  return encoded.slice(first, last);
}

/** Every form of `secret` worth searching for; forms shorter than 16 characters are left out. */
export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  // JSON with every non-ASCII character escaped (\u00e9), as some loggers write it.
  forms.add(secret.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  forms.add(bytes.toString("hex"));
  forms.add(bytes.toString("hex").toUpperCase());
  for (let offset = 0; offset < 3; offset++) {
    const core = base64Core(bytes, offset);
    forms.add(core);
    forms.add(core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...forms].filter((form) => form.length >= 16);
}

/** "<haystack> contains <secret name> (<form>)" for each hit; empty when nothing leaked. */
export function findLeaks(haystacks: readonly Haystack[], secrets: Record<string, string>): string[] {
  const needles = Object.entries(secrets).flatMap(([name, secret]) =>
    encodedForms(secret).map((form) => ({ name, form, bytes: Buffer.from(form, "utf8") })),
  );
  const leaks: string[] = [];
  for (const haystack of haystacks) {
    const data =
      typeof haystack.data === "string" ? Buffer.from(haystack.data, "utf8") : Buffer.from(haystack.data);
    for (const needle of needles) {
      if (data.includes(needle.bytes))
        leaks.push(`${haystack.name} contains ${needle.name} (${needle.form})`);
    }
  }
  return leaks;
}
