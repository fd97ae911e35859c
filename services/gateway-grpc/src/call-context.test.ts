import { Metadata } from "@grpc/grpc-js";
import { checkGetSecret } from "@secrets/validation";
import { describe, expect, it } from "vitest";
import { checkWithPresentedToken, peerHost, presentedToken, userAgentOf } from "./call-context.ts";

function metadata(entries: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(entries)) md.set(key, value);
  return md;
}

describe("peerHost", () => {
  it.each([
    ["127.0.0.1:40924", "127.0.0.1"],
    ["ipv4:10.0.0.5:50000", "10.0.0.5"],
    ["[::1]:40924", "::1"],
    ["ipv6:[2001:db8::1]:443", "2001:db8::1"],
    ["[::ffff:192.168.1.9]:1234", "192.168.1.9"],
    ["::1", "::1"],
    ["unix:/tmp/socket", ""],
    ["", ""],
    ["not-an-address:12", ""],
  ])("%s → %s", (peer, host) => {
    expect(peerHost(peer)).toBe(host);
  });
});

describe("presentedToken", () => {
  it("prefers a bearer token in metadata, case-insensitively", () => {
    expect(presentedToken(metadata({ authorization: "Bearer abc" }), "field")).toEqual({
      ok: true,
      token: "abc",
      source: "metadata",
    });
    expect(presentedToken(metadata({ authorization: "bearer  abc " }), "field")).toMatchObject({
      token: "abc",
    });
  });

  it("falls back to the request field", () => {
    expect(presentedToken(metadata({}), "field")).toEqual({ ok: true, token: "field", source: "field" });
  });

  it("refuses other authorization schemes", () => {
    expect(presentedToken(metadata({ authorization: "Basic abc" }), "field").ok).toBe(false);
    expect(presentedToken(metadata({ authorization: "Bearer" }), "field").ok).toBe(false);
  });

  it("reports a malformed header under `authorization`, not as a missing token", () => {
    const check = (token: string) => checkGetSecret({ secretName: "OK", description: "", token });
    const result = checkWithPresentedToken(metadata({ authorization: "Token x" }), "", check);
    expect(result.violations.map((v) => v.field)).toEqual(["authorization"]);
  });
});

describe("userAgentOf", () => {
  it("bounds the length (grpc-js already refuses control characters in metadata)", () => {
    expect(userAgentOf(metadata({ "user-agent": "sdk/1.0 grpc-node-js/1.14.7" }))).toBe(
      "sdk/1.0 grpc-node-js/1.14.7",
    );
    expect(userAgentOf(metadata({ "user-agent": "x".repeat(1000) }))).toHaveLength(256);
    expect(userAgentOf(metadata({}))).toBe("");
  });

  it("strips C1 controls and bidi overrides before they reach the audit trail", () => {
    // grpc-js drops such values today; should a transport hand one over, it still never reaches the audit.
    const received = new Metadata();
    received.get = () => ["agent\u009b31m/1.0\u202egpj.exe"];
    expect(userAgentOf(received)).toBe("agent31m/1.0gpj.exe");
  });
});
