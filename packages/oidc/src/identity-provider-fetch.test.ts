import type { Server } from "bun";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundedFetch, isSafeIdentityProviderUrl, ResponseTooLargeError } from "./identity-provider-fetch.ts";

describe("isSafeIdentityProviderUrl", () => {
  it.each([
    "https://id.example/",
    "https://id.example:8443/realms/a",
    "http://localhost:8080",
    "http://127.0.0.1:9",
    "http://127.8.9.10/jwks",
    "http://[::1]:8443",
  ])("accepts %s", (url) => expect(isSafeIdentityProviderUrl(url)).toBe(true));

  it.each([
    "http://id.example",
    "http://127.0.0.1.nip.io",
    "http://10.0.0.1",
    "ftp://id.example",
    "not a url",
    "",
  ])("refuses %j", (url) => expect(isSafeIdentityProviderUrl(url)).toBe(false));
});

describe("boundedFetch", () => {
  let server: Server<undefined>;
  let base: string;
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/small")
          return new Response("0123456789", { status: 201, headers: { "x-kept": "yes" } });
        if (path === "/declared") return new Response("x".repeat(2048));
        if (path === "/streamed") {
          // No Content-Length: the cap must hold while reading.
          const chunk = new TextEncoder().encode("x".repeat(512));
          let sent = 0;
          return new Response(
            new ReadableStream({
              pull(controller) {
                if (sent++ < 8) controller.enqueue(chunk);
                else controller.close();
              },
            }),
          );
        }
        if (path === "/moved") return Response.redirect(`${base}/small`, 302);
        return new Response("not found", { status: 404 });
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server?.stop(true));

  it("returns an answer within the cap with its status, headers and body", async () => {
    const response = await boundedFetch(`${base}/small`, {}, 10);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-kept")).toBe("yes");
    expect(await response.text()).toBe("0123456789");
  });

  it("refuses an answer larger than the cap, declared or streamed", async () => {
    await expect(boundedFetch(`${base}/declared`, {}, 1024)).rejects.toBeInstanceOf(ResponseTooLargeError);
    await expect(boundedFetch(`${base}/streamed`, {}, 1024)).rejects.toThrow(
      /The identity provider's answer exceeds 1024 bytes/,
    );
    expect(await (await boundedFetch(`${base}/streamed`, {}, 4096)).text()).toHaveLength(4096);
  });

  it("does not follow a redirect", async () => {
    await expect(boundedFetch(`${base}/moved`, {}, 1024)).rejects.toThrow();
  });

  it("refuses plain http off loopback without sending anything", async () => {
    await expect(boundedFetch("http://id.example/jwks", {}, 1024)).rejects.toThrow(
      "Refusing to fetch http://id.example: not https",
    );
  });
});
