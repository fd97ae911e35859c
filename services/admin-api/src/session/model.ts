import { t } from "elysia";

export const LoginBody = t.Object(
  {
    token: t.String({
      maxLength: 8192,
      description: "An admin token (`ssadm_…`); exchanged for a session cookie, never stored or echoed",
    }),
  },
  { description: "Signs the dashboard in with an admin token" },
);
export type LoginBody = typeof LoginBody.static;

export const SessionView = (description: string) =>
  t.Object(
    {
      admin: t.Object(
        {
          name: t.String({
            description: "The admin's name (or `oidc:<sub>`), as the audit trail records it",
          }),
        },
        { description: "The signed-in admin" },
      ),
      expiresAt: t.Nullable(t.String({ format: "date-time" }), {
        description: "When the session (or the JWT) expires; null for an admin token, which does not",
      }),
    },
    { description },
  );
export type SessionView = ReturnType<typeof SessionView>["static"];

/** `GET /session`: the signed-in admin, and what the dashboard must warn about. */
export const CurrentSessionView = t.Object(
  {
    ...SessionView("").properties,
    bootstrapTokenActive: t.Boolean({
      description:
        "The token installed from `ADMIN_BOOTSTRAP_TOKEN` still works. Create a named admin token and revoke " +
        "the bootstrap one (`bun run admin:token`); once revoked the vault never installs it again",
    }),
  },
  { description: "The signed-in admin" },
);
export type CurrentSessionView = typeof CurrentSessionView.static;
