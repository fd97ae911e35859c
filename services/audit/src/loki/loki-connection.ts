/** How to reach Loki: its base URL and the headers every request carries. */
export interface LokiConnection {
  /** Base URL, such as `http://loki:3100` (a trailing slash is fine). */
  url: string;
  /** Sent as `X-Scope-OrgID` to a multi-tenant Loki. */
  tenant?: string | undefined;
  /** HTTP basic authentication (a gateway in front of Loki, or Grafana Cloud). */
  username?: string | undefined;
  password?: string | undefined;
  /** Longest wait for one request. */
  timeoutMs: number;
  /** Replaceable for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** The absolute URL of a Loki API path. */
export function lokiEndpoint(connection: LokiConnection, path: string): URL {
  return new URL(
    path.replace(/^\//, ""),
    connection.url.endsWith("/") ? connection.url : `${connection.url}/`,
  );
}

/** Tenant and authentication headers. */
export function lokiHeaders(connection: LokiConnection): Record<string, string> {
  const headers: Record<string, string> = {};
  if (connection.tenant) headers["X-Scope-OrgID"] = connection.tenant;
  if (connection.username !== undefined && connection.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString("base64")}`;
  }
  return headers;
}
