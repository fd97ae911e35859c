import { Metadata } from "@grpc/grpc-js";
import { addressKey } from "@secrets/validation";
import { describe, expect, it } from "vitest";
import { clientAddress, trustedProxies, trustedProxyProblem } from "./client-address.ts";

const forwarded = (...values: string[]) => {
  const metadata = new Metadata();
  for (const value of values) metadata.add("x-forwarded-for", value);
  return metadata;
};

describe("clientAddress", () => {
  const proxies = trustedProxies(["10.0.0.0/8", "fd00::/8", "127.0.0.1"]);

  it("believes x-forwarded-for only from a trusted proxy", () => {
    expect(clientAddress("10.1.2.3", forwarded("203.0.113.9"), proxies)).toBe("203.0.113.9");
    expect(clientAddress("198.51.100.7", forwarded("203.0.113.9"), proxies)).toBe("198.51.100.7");
    expect(clientAddress("10.1.2.3", forwarded("203.0.113.9"), trustedProxies([]))).toBe("10.1.2.3");
  });

  it("takes the rightmost address that is not a trusted proxy, so a client cannot name another", () => {
    // The client sent "x-forwarded-for: 192.0.2.1"; the proxy appended the address it saw.
    expect(clientAddress("127.0.0.1", forwarded("192.0.2.1, 203.0.113.9, 10.0.0.5"), proxies)).toBe(
      "203.0.113.9",
    );
    expect(clientAddress("127.0.0.1", forwarded("192.0.2.1", "203.0.113.9"), proxies)).toBe("203.0.113.9");
  });

  it("falls back to the proxy on a missing or malformed header", () => {
    expect(clientAddress("10.1.2.3", new Metadata(), proxies)).toBe("10.1.2.3");
    expect(clientAddress("10.1.2.3", forwarded("not-an-address"), proxies)).toBe("10.1.2.3");
    expect(clientAddress("10.1.2.3", forwarded("10.0.0.9"), proxies)).toBe("10.1.2.3");
  });

  it("normalises forwarded IPv6 and IPv4-mapped addresses", () => {
    expect(clientAddress("fd00::1", forwarded("[2001:DB8::1]"), proxies)).toBe("2001:db8::1");
    expect(clientAddress("fd00::1", forwarded("::ffff:203.0.113.9"), proxies)).toBe("203.0.113.9");
  });
});

describe("addressKey", () => {
  it("is the address for IPv4 and the /64 for IPv6", () => {
    expect(addressKey("203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("")).toBe("");
  });
});

describe("trustedProxyProblem", () => {
  it("accepts addresses and CIDR ranges and names anything else", () => {
    expect(trustedProxyProblem("10.0.0.0/8")).toBeUndefined();
    expect(trustedProxyProblem("fd00::/8")).toBeUndefined();
    expect(trustedProxyProblem("127.0.0.1")).toBeUndefined();
    expect(trustedProxyProblem("10.0.0.0/33")).toMatch(/prefix length outside 0–32/);
    expect(trustedProxyProblem("nginx")).toMatch(/neither an IP address nor a CIDR range/);
    expect(trustedProxyProblem("10.0.0.0/8/1")).toMatch(/neither/);
  });
});
