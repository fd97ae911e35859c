/**
 * Failures the admin API decides itself (as opposed to the vault's BusErrors). Each carries its HTTP
 * status, a stable code and a message written for the user; `error-map.ts` turns it into the one body.
 */

export interface FieldProblem {
  /** The request field, as the client named it: `name`, `value`, `limit`, `id`. */
  field: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { fields?: FieldProblem[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** The `WWW-Authenticate` challenge sent with every 401. */
const challenge = { "www-authenticate": 'Bearer realm="secrets-admin"' };

export const apiErrors = {
  unauthenticated: (message = "Admin credentials are missing or not valid", headers = {}) =>
    new ApiError(401, "UNAUTHENTICATED", message, { headers: { ...challenge, ...headers } }),
  forbidden: (message: string) => new ApiError(403, "PERMISSION_DENIED", message),
  invalid: (fields: FieldProblem[]) =>
    new ApiError(
      422,
      "INVALID_ARGUMENT",
      `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}`,
      { fields },
    ),
  malformedBody: () => new ApiError(400, "MALFORMED_REQUEST", "The request body is not valid JSON"),
  unsupportedMediaType: () =>
    new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json"),
  payloadTooLarge: (maxBytes: number) =>
    new ApiError(413, "PAYLOAD_TOO_LARGE", `The request body exceeds ${maxBytes} bytes`),
  rateLimited: (retryAfterMs: number) => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return new ApiError(429, "RATE_LIMITED", `Too many attempts; retry in ${seconds} s`, {
      headers: { "retry-after": String(seconds) },
    });
  },
  identityProviderUnavailable: (cause: unknown) =>
    new ApiError(503, "UNAVAILABLE", "The identity provider cannot be reached; try again shortly", { cause }),
};
