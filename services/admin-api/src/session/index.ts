/** The dashboard's session routes: sign in (POST), who am I (GET), sign out (DELETE). */
import { Elysia, t } from "elysia";
import type { AdminAuthPlugin } from "../auth/index.ts";
import type { JsonBodyParsing } from "../http/json-body.ts";
import { requestState } from "../http/request-state.ts";
import { adminRouteErrors, errorResponses } from "../shared/model.ts";
import { CurrentSessionView, LoginBody, SessionView } from "./model.ts";
import type { SessionService } from "./service.ts";

export function sessionController(deps: {
  sessions: SessionService;
  auth: AdminAuthPlugin;
  jsonBody: JsonBodyParsing;
}) {
  const { sessions } = deps;
  return new Elysia({ tags: ["session"] })
    .use(deps.auth)
    .post(
      "/session",
      async ({ request, body, set }) => {
        const { session, cookie } = await sessions.login(request, requestState(request), body.token);
        set.headers["set-cookie"] = cookie;
        return session;
      },
      {
        parse: [...deps.jsonBody],
        body: LoginBody,
        response: {
          200: SessionView("Signed in: `Set-Cookie` carries the session cookie (HttpOnly, SameSite=Strict)"),
          ...errorResponses(400, 401, 403, 413, 415, 422, 429, 500, 503),
        },
        detail: {
          summary: "Sign in (dashboard)",
          description:
            "Exchanges an admin token for the session cookie (`__Host-secrets_session`; `secrets_session` with " +
            "ADMIN_COOKIE_SECURE=false). The cookie holds a random session " +
            "id, never the token. Rate-limited per token, and per client address for tokens not known valid. " +
            "A request with an `Origin` header must " +
            "come from the API's own origin.",
          security: [],
        },
      },
    )
    .get("/session", ({ admin, adminContext }) => sessions.current(admin, adminContext), {
      admin: true,
      response: { 200: CurrentSessionView, ...errorResponses(...adminRouteErrors) },
      detail: {
        summary: "The current admin",
        description:
          "Who the credentials (cookie, admin token or JWT) belong to, and until when; and whether the " +
          "bootstrap admin token is still active (the dashboard warns until it is revoked).",
      },
    })
    .delete(
      "/session",
      async ({ request, set }) => {
        set.headers["set-cookie"] = await sessions.logout(request, requestState(request));
        set.status = 204;
      },
      {
        admin: true,
        response: {
          204: t.Void({ description: "Signed out: the session is ended and the cookie cleared" }),
          ...errorResponses(...adminRouteErrors),
        },
        detail: {
          summary: "Sign out (dashboard)",
          description: "Ends the cookie's session in the vault and clears the cookie.",
        },
      },
    );
}
