import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A `web/dist` as Vite writes it, plus a file beside it that must stay unreachable. */
function builtDashboard(): string {
  const root = mkdtempSync(join(tmpdir(), "admin-web-"));
  dirs.push(root);
  const dist = join(root, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(
    join(dist, "index.html"),
    '<!doctype html><script type="module" src="/assets/index-AbC1.js">',
  );
  writeFileSync(join(dist, "assets", "index-AbC1.js"), "console.log('dashboard')");
  writeFileSync(join(dist, "assets", "index-AbC1.css"), "body{margin:0}");
  writeFileSync(join(root, "secret.txt"), "outside");
  return dist;
}

describe("the dashboard's files", () => {
  it("serves index.html at / with a CSP allowing only this origin, and never caches it", async () => {
    const h = createHarness({ config: { webDir: builtDashboard() } });
    for (const path of ["/", "/index.html"]) {
      const res = await h.call("GET", path);
      expect(res.status).toBe(200);
      expect(res.text).toContain("/assets/index-AbC1.js");
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self';");
      expect(res.headers["content-security-policy"]).not.toContain("unsafe");
      expect(res.headers["x-frame-options"]).toBe("DENY");
    }
  });

  it("serves hashed assets with their type and a year-long immutable cache", async () => {
    const h = createHarness({ config: { webDir: builtDashboard() } });
    const js = await h.call("GET", "/assets/index-AbC1.js");
    expect(js.status).toBe(200);
    expect(js.text).toBe("console.log('dashboard')");
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const css = await h.call("GET", "/assets/index-AbC1.css");
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
  });

  it("answers 404 in the API's error shape for unknown or escaping names", async () => {
    const h = createHarness({ config: { webDir: builtDashboard() } });
    for (const path of [
      "/assets/missing.js",
      "/assets/..%2Fsecret.txt",
      "/assets/..%2F..%2Fsecret.txt",
      "/assets/.hidden",
      "/secret.txt",
      "/assets/../secret.txt",
    ]) {
      const res = await h.call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.json.error.code, path).toBe("NOT_FOUND");
      expect(res.text).not.toContain("outside");
    }
  });

  it("shadows no API route", async () => {
    const h = createHarness({ config: { webDir: builtDashboard() } });
    const anonymous = await h.call("GET", "/secrets");
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe("UNAUTHENTICATED");
    const list = await h.call("GET", "/secrets", { token: h.adminToken });
    expect(list.json).toEqual({ secrets: [], nextCursor: null });
    expect((await h.call("GET", "/healthz")).json).toEqual({ status: "ok" });
    const unknown = await h.call("GET", "/secrets/some-id");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
    const doc = (await h.call("GET", "/swagger/json")).json;
    expect(Object.keys(doc.paths)).not.toContain("/");
    expect(Object.keys(doc.paths).some((path) => path.startsWith("/assets"))).toBe(false);
  });

  it("says how to build the dashboard while web/dist is missing, and the API still works", async () => {
    const h = createHarness({ config: { webDir: join(tmpdir(), `no-dashboard-${crypto.randomUUID()}`) } });
    const res = await h.call("GET", "/");
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.text).toContain("bun run web:build");
    expect((await h.call("GET", "/assets/index-AbC1.js")).status).toBe(404);
    expect((await h.call("GET", "/secrets", { token: h.adminToken })).status).toBe(200);
  });
});
