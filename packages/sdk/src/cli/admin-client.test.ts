import type { Server } from "bun";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminApiError, createAdminClient } from "./admin-client.ts";
import { processIo } from "./io.ts";

const token = `ssadm_${"r".repeat(43)}`;
/** Another origin that records whatever reaches it: where a hostile redirect points. */
let collector: Server<undefined>;
let redirector: Server<undefined>;
const received: { method: string; path: string; authorization: string | null; body: string }[] = [];

beforeAll(() => {
  collector = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const { pathname } = new URL(request.url);
      received.push({
        method: request.method,
        path: pathname,
        authorization: request.headers.get("authorization"),
        body: await request.text(),
      });
      return Response.json({ secrets: [], nextCursor: "" }, { status: 201 });
    },
  });
  redirector = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      const status = pathname === "/keys/rotate" ? 308 : 307;
      return new Response(null, { status, headers: { location: `${collector.url.origin}${pathname}` } });
    },
  });
});

afterAll(() => {
  redirector?.stop(true);
  collector?.stop(true);
});

describe("the admin client", () => {
  it("fails on a redirect instead of following it, so neither the body nor the token goes elsewhere", async () => {
    const client = createAdminClient(processIo(), redirector.url.origin, token);
    const put = client.putSecret("DATABASE_PASSWORD", "s3cret-value-never-resent");
    await expect(put).rejects.toBeInstanceOf(AdminApiError);
    await expect(put).rejects.toThrow(/redirect/);
    await expect(client.rotateKey()).rejects.toThrow(/redirect/);
    await expect(client.listSecrets()).rejects.toThrow(/redirect/);
    expect(received).toEqual([]);
  });

  it("refuses a redirect answer even from a fetch that does not honour `redirect: error`", async () => {
    const sent: RequestInit[] = [];
    const lenient = async (_url: string, init: RequestInit) => {
      sent.push(init);
      return new Response(null, { status: 307, headers: { location: "http://elsewhere.test/secrets" } });
    };
    const client = createAdminClient({ fetch: lenient }, "http://admin.test", token);
    await expect(client.putSecret("X", "v")).rejects.toThrow(/was redirected \(HTTP 307\)/);
    expect(sent[0]?.redirect).toBe("error");
  });
});
