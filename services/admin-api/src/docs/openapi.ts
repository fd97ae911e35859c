/** The OpenAPI document (`/swagger/json`) and its viewer (`/swagger`), with both ways to authenticate. */
import { swagger } from "@elysiajs/swagger";
import { sessionCookieName } from "../auth/session-cookie.ts";

export function openApiDocs() {
  return swagger({
    path: "/swagger",
    documentation: {
      info: {
        title: "Secrets Service admin API",
        version: "1",
        description:
          "Manage secrets, service tokens and access requests. Every route but /healthz needs an admin. " +
          "Secret values are write-only: no response ever contains one. Every response carries " +
          "`x-request-id`, the id the vault's audit trail records.",
      },
      tags: [
        { name: "secrets", description: "Secrets, without their values" },
        { name: "access requests", description: "Services' requests to read secrets" },
        { name: "service tokens", description: "Tokens services registered, awaiting or holding approval" },
        { name: "session", description: "Dashboard sign-in with a session cookie" },
        { name: "health", description: "Liveness of the path to the vault" },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            description:
              "An admin token (`ssadm_…`, from `bun run admin:token create`), or with SSO configured a JWT " +
              "from the OIDC issuer carrying the admin scope.",
          },
          sessionCookie: {
            type: "apiKey",
            in: "cookie",
            name: sessionCookieName,
            description:
              "The dashboard's session, set by POST /session (HttpOnly, SameSite=Strict). A change " +
              "(POST, PUT, PATCH, DELETE) authenticated by it must send an Origin equal to the API's origin.",
          },
        },
      },
    },
  });
}
