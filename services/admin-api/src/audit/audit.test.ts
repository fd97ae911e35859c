import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

describe("GET /audit", () => {
  it("passes the filters to the audit service and returns its events newest first", async () => {
    const h = createHarness();
    h.audit.add({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: true,
      timestampMs: 1_000,
    });
    h.audit.add({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: false,
      reason: "ACCESS_PENDING",
      timestampMs: 2_000,
    });
    h.audit.add({
      event: "secret.get",
      secretName: "OTHER",
      serviceName: "billing",
      success: true,
      timestampMs: 3_000,
    });
    const res = await h.call(
      "GET",
      "/audit?secret=DB_URL&service=orders&event=secret.get&from=1970-01-01T00:00:01Z&to=1970-01-02T00:00:00Z&limit=10",
      { token: h.adminToken },
    );
    expect(res.status).toBe(200);
    expect(res.json.events.map((e: { reason: string | null }) => e.reason)).toEqual(["ACCESS_PENDING", null]);
    expect(res.json.events[0]).toMatchObject({
      event: "secret.get",
      secretName: "DB_URL",
      serviceName: "orders",
      success: false,
      timestamp: "1970-01-01T00:00:02.000Z",
      actor: null,
    });
    expect(h.audit.requests.at(-1)).toMatchObject({
      secret: "DB_URL",
      serviceName: "orders",
      event: "secret.get",
      fromMs: 1_000,
      toMs: Date.parse("1970-01-02T00:00:00Z"),
      limit: 10,
    });
  });

  it("maps the outcome filter to success", async () => {
    const h = createHarness();
    await h.call("GET", "/audit?outcome=failure", { token: h.adminToken });
    expect(h.audit.requests.at(-1)?.success).toBe(false);
    await h.call("GET", "/audit", { token: h.adminToken });
    expect(h.audit.requests.at(-1)?.success).toBeUndefined();
  });

  it("refuses an unknown event, a reversed range and a bad limit", async () => {
    const h = createHarness();
    const event = await h.call("GET", "/audit?event=secret.steal", { token: h.adminToken });
    expect(event.status).toBe(422);
    expect(event.json.error.fields).toEqual([{ field: "event", message: expect.any(String) }]);
    const range = await h.call("GET", "/audit?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", {
      token: h.adminToken,
    });
    expect(range.status).toBe(422);
    expect((await h.call("GET", "/audit?limit=5000", { token: h.adminToken })).status).toBe(422);
    expect(h.audit.requests).toHaveLength(0);
  });

  it("answers 503 when no audit service answers", async () => {
    const h = createHarness({ serveAudit: false });
    const res = await h.call("GET", "/audit", { token: h.adminToken });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe("NO_RESPONDERS");
  });
});

describe("GET /audit, page after page", () => {
  type Page = { events: { id: string; timestamp: string }[]; nextCursor: string | null };

  /** Every page of the query, following `nextCursor`. */
  async function allPages(h: ReturnType<typeof createHarness>, query: string): Promise<Page[]> {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await h.call("GET", `/audit?${query}${suffix}`, { token: h.adminToken });
      expect(res.status).toBe(200);
      pages.push(res.json as Page);
      cursor = (res.json as Page).nextCursor;
    } while (cursor !== null && pages.length < 50);
    return pages;
  }

  it("shows every event exactly once, newest first, many of them in the same millisecond", async () => {
    const h = createHarness();
    const now = Date.now();
    // 230 events over 40 milliseconds: runs of 5 to 7 share a millisecond, across page boundaries.
    for (let i = 0; i < 230; i++)
      h.audit.add({ event: "secret.get", timestampMs: now - 1_000 + Math.floor(i / 6) });
    h.audit.add({ event: "secret.get", timestampMs: now - 2 * 24 * 60 * 60 * 1000 }); // outside the 24 hours
    const pages = await allPages(h, "limit=25");
    const shown = pages.flatMap((page) => page.events);
    expect(shown).toHaveLength(230);
    expect(new Set(shown.map((event) => event.id)).size).toBe(230);
    const times = shown.map((event) => Date.parse(event.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(pages).toHaveLength(10); // 9 full pages of 25, then the last 5
    expect(pages.at(-1)?.nextCursor).toBeNull();
  });

  it("keeps the first page's window: later pages never reach past its 24 hours", async () => {
    const h = createHarness();
    const now = Date.now();
    for (let i = 0; i < 30; i++) h.audit.add({ event: "secret.get", timestampMs: now - i * 60 * 60 * 1000 });
    const shown = (await allPages(h, "limit=7")).flatMap((page) => page.events);
    // Hours 0 to 23 back: the 24th hour back is at the window's edge, the rest beyond it.
    expect(shown.length).toBeGreaterThanOrEqual(24);
    expect(shown.length).toBeLessThanOrEqual(25);
    const fromMs = h.audit.requests.map((request) => Number(request.fromMs));
    expect(new Set(fromMs).size).toBe(1);
  });

  it("refuses a cursor it did not make", async () => {
    const h = createHarness();
    for (const cursor of [
      "nonsense",
      Buffer.from('[1,2,["x"]]').toString("base64url"),
      Buffer.from("[5,9,[]]").toString("base64url"),
    ]) {
      const res = await h.call("GET", `/audit?cursor=${cursor}`, { token: h.adminToken });
      expect(res.status).toBe(422);
      expect(res.json.error.fields).toEqual([{ field: "cursor", message: "is not a cursor of this list" }]);
    }
    expect(h.audit.requests).toHaveLength(0);
  });
});
