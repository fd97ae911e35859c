/**
 * An HTTP client of the admin API for end-to-end tests: `fetch` only, no code of the service. It records
 * every response (status line, every header, body) so that a test can search all of them for leaks.
 */

export interface RecordedResponse {
  request: string;
  statusLine: string;
  headers: [string, string][];
  body: string;
}

export interface HttpOutcome {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely in assertions
  json: any;
}

/** A Bearer token, or a session cookie (sent with the API's own Origin, as the dashboard's browser does). */
export type Credential = { token: string } | { cookie: string };

export interface SendOptions {
  credential?: Credential;
  body?: unknown;
  /** A body sent as is (with `Content-Type: application/json`). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export function adminHttpClient(baseUrl: string) {
  const recorded: RecordedResponse[] = [];
  const origin = new URL(baseUrl).origin;

  async function send(method: string, path: string, options: SendOptions = {}): Promise<HttpOutcome> {
    const headers = new Headers(options.headers);
    const credential = options.credential;
    if (credential && "token" in credential) headers.set("authorization", `Bearer ${credential.token}`);
    if (credential && "cookie" in credential) {
      headers.set("cookie", credential.cookie);
      if (!headers.has("origin")) headers.set("origin", origin);
    }
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers.set("content-type", "application/json");
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: "manual" });
    const text = await response.text();
    recorded.push({
      request: `${method} ${path}`,
      statusLine: `HTTP/1.1 ${response.status} ${response.statusText}`,
      headers: [
        ...response.headers.entries(),
        ...response.headers.getSetCookie().map((c): [string, string] => ["set-cookie", c]),
      ],
      body: text,
    });
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  /** The admin routes with one credential. */
  function as(credential: Credential) {
    const query = (params: Record<string, string | undefined>) => {
      const search = new URLSearchParams(
        Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
      );
      return search.size > 0 ? `?${search}` : "";
    };
    return {
      listSecrets: (params: { q?: string; missing?: string; limit?: string } = {}) =>
        send("GET", `/secrets${query(params)}`, { credential }),
      putSecret: (body: { name: string; description?: string; value?: string }) =>
        send("POST", "/secrets", { credential, body }),
      deleteSecret: (id: string) => send("DELETE", `/secrets/${id}`, { credential }),
      listAccessRequests: (status?: string) =>
        send("GET", `/access-requests${query({ status })}`, { credential }),
      grantAccess: (secretName: string, serviceName: string) =>
        send("POST", "/access-requests", { credential, body: { secretName, serviceName } }),
      approveAccess: (id: string) => send("POST", `/access-requests/${id}/approve`, { credential }),
      denyAccess: (id: string) => send("POST", `/access-requests/${id}/deny`, { credential }),
      listServiceTokens: (status?: string) =>
        send("GET", `/service-tokens${query({ status })}`, { credential }),
      approveToken: (id: string) => send("POST", `/service-tokens/${id}/approve`, { credential }),
      denyToken: (id: string) => send("POST", `/service-tokens/${id}/deny`, { credential }),
      revokeToken: (id: string) => send("POST", `/service-tokens/${id}/revoke`, { credential }),
      session: () => send("GET", "/session", { credential }),
      signOut: () => send("DELETE", "/session", { credential }),
    };
  }

  /** Signs in with an admin token; the session cookie as a `Cookie` header value. */
  async function signIn(token: string): Promise<{ cookie: string; response: HttpOutcome }> {
    const response = await send("POST", "/session", { body: { token }, headers: { origin } });
    const setCookie = response.headers.getSetCookie()[0] ?? "";
    return { cookie: setCookie.split(";")[0] ?? "", response };
  }

  return {
    origin,
    send,
    as,
    signIn,
    /** Every response so far, in order. */
    recorded,
    /** Every recorded response as one text: status lines, headers and bodies (not the requests). */
    recordedText: () =>
      recorded
        .map((r) => [r.statusLine, ...r.headers.map(([k, v]) => `${k}: ${v}`), "", r.body].join("\n"))
        .join("\n\n"),
  };
}

export type AdminHttpClient = ReturnType<typeof adminHttpClient>;
