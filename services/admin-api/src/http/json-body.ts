/**
 * The request body parser: JSON only, read with a byte limit so that a large or endless (chunked) body
 * is refused after `maxBytes` instead of being buffered whole. Parse errors never quote the body (it may
 * hold a secret value).
 */
import { apiErrors } from "./api-error.ts";

const jsonType = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw apiErrors.payloadTooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw apiErrors.payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The parsed JSON body; an empty body is `{}` so that schema validation names the missing fields. */
export async function parseJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readLimited(request, maxBytes);
  if (bytes.byteLength === 0) return {};
  if (!jsonType.test(request.headers.get("content-type") ?? "")) throw apiErrors.unsupportedMediaType();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw apiErrors.malformedBody();
  }
  try {
    return JSON.parse(text);
  } catch {
    throw apiErrors.malformedBody();
  }
}

/**
 * The `parse` option of a route with a JSON body: this parser, then Elysia's name for JSON, which never
 * runs (this parser always answers or throws) but tells the OpenAPI document the body is JSON only.
 * A route's own `parse` replaces the pipeline's, so every route with a body must use this.
 */
export function jsonBodyParsing(maxBytes: number) {
  return [
    ({ request }: { request: Request }) => parseJsonBody(request, maxBytes),
    "application/json",
  ] as const;
}

export type JsonBodyParsing = ReturnType<typeof jsonBodyParsing>;
