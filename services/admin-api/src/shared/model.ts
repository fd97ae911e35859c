/** Schemas every feature shares: the error body, timestamps, paging. */
import { t } from "elysia";

const FieldProblem = t.Object(
  {
    field: t.String({ description: "The failing input field: `name`, `value`, `limit`, `id`, ..." }),
    message: t.String({ description: "What is wrong with it" }),
  },
  { description: "One failing input field" },
);

/** The one error body, with the response's description (OpenAPI takes it from the schema). */
export function errorBody(description: string) {
  return t.Object(
    {
      error: t.Object(
        {
          code: t.String({
            description:
              "Stable machine code: UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, CONFLICT, " +
              "FAILED_PRECONDITION, INVALID_ARGUMENT, MALFORMED_REQUEST, PAYLOAD_TOO_LARGE, " +
              "UNSUPPORTED_MEDIA_TYPE, RATE_LIMITED, RESOURCE_EXHAUSTED, UNAVAILABLE or INTERNAL",
          }),
          message: t.String({ description: "Written for a person; never holds a secret value or a token" }),
          requestId: t.String({ description: "The request's id, as in `x-request-id` and the audit trail" }),
          fields: t.Optional(t.Array(FieldProblem, { description: "Each failing input field (422 only)" })),
        },
        { description: "What went wrong" },
      ),
    },
    { description },
  );
}

const errorDescriptions = {
  400: "The request body is not valid JSON",
  401: "No valid admin credentials (missing, wrong, revoked or expired)",
  403: "Authenticated but not allowed: no admin scope, or a cookie-authenticated change from another origin",
  404: "No such route or id",
  409: "The change conflicts with the current state (CONFLICT or FAILED_PRECONDITION)",
  413: "The request body is too large",
  415: "The request body is not application/json",
  422: "Invalid input; `fields` lists each failing field",
  429: "Too many attempts from this address; `Retry-After` says when to try again",
  500: "The admin API failed; its log has the details (none are sent)",
  503: "The vault (or the identity provider) is not answering; try again shortly",
} as const;

type DocumentedStatus = keyof typeof errorDescriptions;

/** Error responses for a route's OpenAPI entry. */
export function errorResponses<const S extends DocumentedStatus>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((s) => [s, errorBody(errorDescriptions[s])])) as {
    [K in S]: ReturnType<typeof errorBody>;
  };
}

/** The failures every admin route can answer with. */
export const adminRouteErrors = [401, 403, 429, 500, 503] as const;

export const timestamp = (description: string) => t.String({ format: "date-time", description });

export const optionalTimestamp = (description: string) =>
  t.Nullable(t.String({ format: "date-time" }), { description: `${description}; null when not yet` });

export const pageQuery = {
  limit: t.Optional(t.Integer({ description: "Page size, 1–1000; default 100" })),
  cursor: t.Optional(
    t.String({ maxLength: 2048, description: "`nextCursor` of the previous page; omit for the first page" }),
  ),
};

export const nextCursor = t.Nullable(t.String(), {
  description: "Pass as `cursor` to get the next page; null on the last page",
});

export const idParams = (what: string) =>
  t.Object({ id: t.String({ minLength: 1, maxLength: 128, description: `The ${what}'s id` }) });

/** A pending queue at its limit, as the access-request and service-token lists report it. */
export const PendingLimitView = t.Object(
  {
    serviceName: t.Nullable(t.String(), {
      description: "The service whose pending items are counted; null when counted by client address",
    }),
    clientAddress: t.Nullable(t.String(), {
      description: "The client address whose pending tokens are counted; null when counted by service",
    }),
    pending: t.Integer({ description: "Pending items counted now" }),
    limit: t.Integer({ description: "The vault's configured limit (MAX_PENDING_*)" }),
  },
  {
    description:
      "A queue at its limit: further registrations or new secret names are refused (RESOURCE_EXHAUSTED) " +
      "until an admin approves or denies some of its pending items",
  },
);
export type PendingLimitView = typeof PendingLimitView.static;

export const pendingLimitsReached = t.Array(PendingLimitView, {
  description: "Queues at their limit, whatever page or status was asked for; empty when none is full",
});
