/** `GET /healthz`: 200 while the vault answers its ping over the bus, 503 otherwise. No credentials. */
import { Elysia, t } from "elysia";

const Health = (description: string) =>
  t.Object(
    {
      status: t.Union([t.Literal("ok"), t.Literal("unavailable")], {
        description: "ok: the vault answers; unavailable: it does not",
      }),
    },
    { description },
  );

export function healthController(deps: { pingVault: () => Promise<unknown> }) {
  return new Elysia({ tags: ["health"] }).get(
    "/healthz",
    async ({ set }) => {
      try {
        await deps.pingVault();
        return { status: "ok" as const };
      } catch {
        set.status = 503;
        return { status: "unavailable" as const };
      }
    },
    {
      response: { 200: Health("The vault answers"), 503: Health("The vault does not answer") },
      detail: {
        summary: "Health",
        description: "For load balancers and orchestrators: whether this admin API can reach the vault.",
        security: [],
      },
    },
  );
}
