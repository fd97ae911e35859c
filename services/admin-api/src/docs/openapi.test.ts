import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createHarness } from "../../test/harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: walking an arbitrary JSON document
type Json = any;

/** Every schema property (at any depth) without a description, as `where.property`. */
function undescribedProperties(node: Json, where: string, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) undescribedProperties(item, `${where}[${i}]`, found);
    return found;
  }
  if (node === null || typeof node !== "object") return found;
  if (node.properties && typeof node.properties === "object") {
    for (const [name, schema] of Object.entries<Json>(node.properties)) {
      if (typeof schema?.description !== "string" || schema.description.trim() === "") {
        found.push(`${where}.${name}`);
      }
    }
  }
  for (const [key, value] of Object.entries<Json>(node))
    undescribedProperties(value, `${where}/${key}`, found);
  return found;
}

describe("the OpenAPI document", () => {
  it("is served at /swagger/json and its viewer at /swagger", async () => {
    const h = createHarness();
    const page = await h.call("GET", "/swagger");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    const doc = await h.call("GET", "/swagger/json");
    expect(doc.json.openapi).toMatch(/^3\./);
    expect(doc.json.info.title).toBe("Secrets Service admin API");
  });

  it("serves its viewer with no script from another origin, under a CSP that allows none", async () => {
    const h = createHarness();
    const page = await h.call("GET", "/swagger");
    const sources = [...page.text.matchAll(/<script\b([^>]*)>/gi)].map(
      (m) => /\bsrc="([^"]*)"/.exec(m[1] ?? "")?.[1],
    );
    expect(sources.length).toBeGreaterThan(0);
    // Every script is a file of this origin: none inline, none from a CDN.
    for (const src of sources) {
      expect(src).toMatch(/^\/[^/]/);
      expect(new URL(src ?? "", "http://localhost").origin).toBe("http://localhost");
    }
    expect(page.text).not.toMatch(/https?:\/\//);
    const csp = page.headers["content-security-policy"] ?? "";
    const directive = (name: string) =>
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .find(([n]) => n === name)
        ?.slice(1);
    expect(directive("default-src")).toEqual(["'none'"]);
    expect(directive("script-src")).toEqual(["'self'"]);
    expect(directive("connect-src")).toEqual(["'self'"]);
    expect(directive("frame-ancestors")).toEqual(["'none'"]);
    for (const src of sources) {
      const asset = await h.call("GET", src ?? "");
      expect(asset.status, src).toBe(200);
      expect(asset.headers["content-type"], src).toContain("javascript");
    }
    // The viewer is the package's own bundle, at a version pinned exactly (no range to drift within).
    const served = await h.call("GET", sources[0] ?? "");
    expect(served.text).toContain("createApiReference");
    const manifest = await Bun.file(join(import.meta.dirname, "../../package.json")).json();
    expect(manifest.dependencies["@scalar/api-reference"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("describes every route, parameter, response and schema property", async () => {
    const doc = (await createHarness().call("GET", "/swagger/json")).json;
    const operations = Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
      Object.entries<Json>(item).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(14);
    for (const { where, op } of operations) {
      expect(op.summary, where).toBeTruthy();
      expect(op.description, where).toBeTruthy();
      for (const parameter of op.parameters ?? [])
        expect(parameter.description, `${where} ${parameter.name}`).toBeTruthy();
      for (const [status, response] of Object.entries<Json>(op.responses)) {
        expect(response.description, `${where} ${status}`).toBeTruthy();
      }
      expect(
        Object.keys(op.responses).some((s) => s.startsWith("2")),
        where,
      ).toBe(true);
    }
    expect(undescribedProperties(doc.paths, "paths")).toEqual([]);
  });

  it("documents the Bearer scheme and the session cookie, and which routes need them", async () => {
    const doc = (await createHarness().call("GET", "/swagger/json")).json;
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({
      type: "apiKey",
      in: "cookie",
      name: "__Host-secrets_session",
    });
    for (const scheme of Object.values<Json>(doc.components.securitySchemes))
      expect(scheme.description).toBeTruthy();
    const security = (method: string, path: string) => doc.paths[path][method].security;
    expect(security("get", "/secrets")).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    expect(security("post", "/service-tokens/{id}/revoke")).toEqual([
      { bearerAuth: [] },
      { sessionCookie: [] },
    ]);
    expect(security("get", "/healthz")).toEqual([]);
    expect(security("post", "/session")).toEqual([]);
    expect(doc.paths["/secrets"].post.responses["401"]).toBeDefined();
    expect(doc.paths["/secrets/{id}"].delete.responses["404"]).toBeDefined();
  });
});
