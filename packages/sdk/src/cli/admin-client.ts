/**
 * The few admin API routes `import-env` and `keys` use, over fetch with the admin token as a Bearer
 * credential, with bodies typed from the API's OpenAPI document (`@secrets/admin-api-schema`). Errors
 * carry the API's code and message, never the request body (which holds values).
 */
import type {
  ErrorBody,
  KeyStatus,
  PutSecretBody,
  RequestBody,
  RotationStarted,
  SecretList,
  SecretView,
} from "@secrets/admin-api-schema";
import { CliError } from "./cli-error.ts";
import type { CliIo } from "./io.ts";

export type SecretSummary = Pick<SecretView, "id" | "name" | "hasValue" | "isStub">;
export type { KeyStatus };

export interface AdminClient {
  /** Every secret (all pages), by name. */
  listSecrets(): Promise<Map<string, SecretSummary>>;
  /** Creates (true) or updates (false) the secret with this name. */
  putSecret(name: string, value: string): Promise<{ created: boolean }>;
  /** Grants the service access to the secret; `created` is false when an access request already existed. */
  grantAccess(secretName: string, serviceName: string): Promise<{ created: boolean }>;
  /** Encryption-key rotation: its status, and a rotation now. */
  keyStatus(): Promise<KeyStatus>;
  rotateKey(): Promise<RotationStarted>;
}

export class AdminApiError extends CliError {
  override name = "AdminApiError";
}

export function createAdminClient(io: Pick<CliIo, "fetch">, baseUrl: string, token: string): AdminClient {
  const base = baseUrl.replace(/\/+$/, "");

  async function call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await io.fetch(`${base}${path}`, {
        method,
        // A redirect would resend the Bearer token and the body (secret values) to wherever it points.
        redirect: "error",
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new AdminApiError(
        `Cannot reach the admin API at ${base} (${error instanceof Error ? error.message : String(error)}); ` +
          "a redirect is never followed: give the admin API's own URL",
      );
    }
    // A fetch that ignores `redirect` (a test double, an old runtime) must not hand us a redirect either.
    if (response.status >= 300 && response.status < 400) {
      throw new AdminApiError(
        `${method} ${path.split("?")[0]} was redirected (HTTP ${response.status}); nothing was sent on. ` +
          "Give the admin API's own URL",
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json as Partial<ErrorBody> | undefined)?.error;
      const hint = response.status === 401 ? " (check --token / SECRETS_ADMIN_TOKEN)" : "";
      const request = error?.requestId ? `, request id ${error.requestId}` : "";
      throw new AdminApiError(
        `${method} ${path.split("?")[0]} failed: HTTP ${response.status} ${error?.code ?? ""} ${error?.message ?? "(no error body)"}${hint}${request}`.replace(
          / +/g,
          " ",
        ),
      );
    }
    return { status: response.status, json };
  }

  return {
    async listSecrets() {
      const secrets = new Map<string, SecretSummary>();
      let cursor = "";
      for (let page = 0; page < 10_000; page++) {
        const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
        const { json } = await call("GET", `/secrets?${query}`);
        const body = json as SecretList | undefined;
        for (const secret of body?.secrets ?? []) secrets.set(secret.name, secret);
        cursor = body?.nextCursor ?? "";
        if (!cursor) break;
      }
      return secrets;
    },
    async putSecret(name, value) {
      const body: PutSecretBody = { name, value };
      const { status } = await call("POST", "/secrets", body);
      return { created: status === 201 };
    },
    async keyStatus() {
      return (await call("GET", "/keys")).json as KeyStatus;
    },
    async rotateKey() {
      return (await call("POST", "/keys/rotate")).json as RotationStarted;
    },
    async grantAccess(secretName, serviceName) {
      const body: RequestBody<"postAccessRequests"> = { secretName, serviceName };
      // 201: a new access request, granted; 200: the existing one, now granted.
      const { status } = await call("POST", "/access-requests", body);
      return { created: status === 201 };
    },
  };
}
