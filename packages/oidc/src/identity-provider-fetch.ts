/**
 * How a verifier talks to the identity provider: https only (plain http on loopback alone, for a
 * provider on the same host), never following a redirect (a redirect could move the key fetch to a host
 * the operator never configured), and reading at most a fixed number of bytes of any answer.
 */

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** True for an https URL, or an http URL whose host is loopback. */
export function isSafeIdentityProviderUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  const host = url.hostname.toLowerCase();
  return url.protocol === "http:" && (loopbackHosts.has(host) || /^127(\.\d{1,3}){3}$/.test(host));
}

export class ResponseTooLargeError extends Error {
  override readonly name = "ResponseTooLargeError";
}

/** `fetch` without redirects whose body is read up to `maxBytes` (throws ResponseTooLargeError beyond). */
export async function boundedFetch(url: string, init: RequestInit, maxBytes: number): Promise<Response> {
  if (!isSafeIdentityProviderUrl(url)) throw new Error(`Refusing to fetch ${new URL(url).origin}: not https`);
  const response = await fetch(url, { ...init, redirect: "error" });
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(`The identity provider's answer exceeds ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    size += next.value.byteLength;
    if (size > maxBytes) {
      await reader?.cancel();
      throw new ResponseTooLargeError(`The identity provider's answer exceeds ${maxBytes} bytes`);
    }
    chunks.push(next.value);
  }
  return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
}
