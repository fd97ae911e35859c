/**
 * The admin API client (openapi-fetch, typed by the OpenAPI document) with the session cookie. Every
 * failure becomes an `ApiFailure` carrying the API's code, message and per-field problems; a 401 also
 * tells the listener registered with `onUnauthenticated`, which sends the dashboard back to the login
 * page.
 */

import type { ErrorBody, FieldProblem, paths } from "@secrets/admin-api-schema";
import createClient from "openapi-fetch";

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

function failure(status: number, body: unknown): ApiFailure {
  if (isErrorBody(body)) {
    const { code, message, fields, requestId } = body.error;
    return new ApiFailure(status, code, message, fields ?? [], requestId);
  }
  return new ApiFailure(status, "UNKNOWN", `The admin API answered ${status}`);
}

function serializeQuery(query: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  return search.toString();
}

/**
 * The admin API on this origin, its paths, parameters and bodies typed from the OpenAPI document
 * (`@secrets/admin-api-schema`, generated). Calls go through `call`, which turns failures into `ApiFailure`s.
 */
export const adminApi = createClient<paths>({
  credentials: "same-origin",
  // The API never redirects: one that did would be someone else's answer.
  redirect: "error",
  headers: { accept: "application/json" },
  querySerializer: serializeQuery,
});

/** What every `adminApi` method resolves with. */
interface Answer<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/** One admin API call's data (undefined for 204); a failure rejects with an `ApiFailure`. */
export async function call<Data>(pending: Promise<Answer<Data>>): Promise<Data> {
  let answer: Answer<Data>;
  try {
    answer = await pending;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiFailure(0, "NETWORK", "The admin API cannot be reached; check your connection");
  }
  const { response } = answer;
  if (!response.ok) {
    const error = failure(response.status, answer.error);
    if (response.status === 401) unauthenticatedListener?.();
    throw error;
  }
  return answer.data as Data;
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
