/**
 * `fetch` against the admin API on this origin with the session cookie. Every failure becomes an
 * `ApiFailure` carrying the API's code, message and per-field problems; a 401 also tells the listener
 * registered with `onUnauthenticated`, which sends the dashboard back to the login page.
 */
import type { ErrorBody, FieldProblem } from "./types.ts";

export class ApiFailure extends Error {
  override readonly name = "ApiFailure";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly requestId = "",
  ) {
    super(message);
  }
}

let unauthenticatedListener: (() => void) | undefined;

/** Called on every 401 (an ended session, a revoked admin token). */
export function onUnauthenticated(listener: () => void): void {
  unauthenticatedListener = listener;
}

function isErrorBody(body: unknown): body is ErrorBody {
  return typeof body === "object" && body !== null && "error" in body && typeof body.error === "object";
}

async function failure(response: Response): Promise<ApiFailure> {
  const body: unknown = await response.json().catch(() => undefined);
  if (isErrorBody(body)) {
    const { code, message, fields, requestId } = body.error;
    return new ApiFailure(response.status, code, message, fields ?? [], requestId);
  }
  return new ApiFailure(response.status, "UNKNOWN", `The admin API answered ${response.status}`);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/** One admin API call; resolves with the parsed JSON (undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const url = search.size > 0 ? `${path}?${search}` : path;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? "GET",
      credentials: "same-origin",
      // The API never redirects: one that did would be someone else's answer.
      redirect: "error",
      headers:
        options.body === undefined
          ? { accept: "application/json" }
          : { accept: "application/json", "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiFailure(0, "NETWORK", "The admin API cannot be reached; check your connection");
  }
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401) unauthenticatedListener?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A message for a person, whatever failed. */
export function describeError(error: unknown): string {
  if (error instanceof ApiFailure) {
    if (error.status === 429) return `${error.message}.`;
    if (error.status === 503) return "The vault is not answering right now; try again shortly.";
    if (error.status >= 500) return `Something went wrong on the server (request ${error.requestId}).`;
    return error.message;
  }
  return error instanceof Error ? error.message : "Something went wrong";
}
