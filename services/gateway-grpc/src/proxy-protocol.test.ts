import { describe, expect, it } from "vitest";
import { parseProxyHeader } from "./proxy-protocol.ts";

const v2 = (command: number, family: number, body: Buffer) => {
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.byteLength);
  return Buffer.concat([head, Buffer.from([0x20 | command, (family << 4) | 1]), length, body]);
};

describe("parseProxyHeader", () => {
  it("reads a version 1 line as nginx's stream module sends it", () => {
    const line = Buffer.from("PROXY TCP4 203.0.113.9 10.0.0.5 51234 50051\r\n\x16\x03\x01");
    expect(parseProxyHeader(line)).toEqual({
      state: "complete",
      length: line.byteLength - 3,
      address: "203.0.113.9",
    });
    expect(parseProxyHeader(Buffer.from("PROXY TCP6 2001:db8::1 fd00::5 1 2\r\n"))).toMatchObject({
      address: "2001:db8::1",
    });
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toMatchObject({
      state: "complete",
      address: "",
    });
  });

  it("reads a version 2 header for IPv4 and IPv6, and LOCAL as the proxy itself", () => {
    const ipv4 = Buffer.from([203, 0, 113, 9, 10, 0, 0, 5, 0xc8, 0x22, 0xc3, 0x53]);
    const header = v2(1, 1, ipv4);
    expect(parseProxyHeader(Buffer.concat([header, Buffer.from("rest")]))).toEqual({
      state: "complete",
      length: header.byteLength,
      address: "203.0.113.9",
    });
    const ipv6 = Buffer.alloc(36);
    Buffer.from("20010db8000000000000000000000001", "hex").copy(ipv6);
    expect(parseProxyHeader(v2(1, 2, ipv6))).toMatchObject({ address: "2001:db8:0:0:0:0:0:1" });
    expect(parseProxyHeader(v2(0, 0, Buffer.alloc(0)))).toMatchObject({ state: "complete", address: "" });
  });

  it("waits for the rest of a header that arrives in pieces", () => {
    const line = Buffer.from("PROXY TCP4 203.0.113.9 10.0.0.5 51234 50051\r\n");
    for (const cut of [1, 5, 6, 20, line.byteLength - 1])
      expect(parseProxyHeader(line.subarray(0, cut))).toEqual({ state: "incomplete" });
    const header = v2(1, 1, Buffer.alloc(12));
    for (const cut of [1, 12, 15, header.byteLength - 1])
      expect(parseProxyHeader(header.subarray(0, cut))).toEqual({ state: "incomplete" });
  });

  it("refuses anything else: a TLS hello, a long line, an unknown version", () => {
    expect(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01, 0x02]))).toMatchObject({ state: "invalid" });
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${"1".repeat(120)}`))).toMatchObject({
      state: "invalid",
      problem: "PROXY v1 line too long",
    });
    expect(parseProxyHeader(Buffer.from("PROXY TCP4 1.2.3.4\r\n"))).toMatchObject({ state: "invalid" });
    const wrongVersion = v2(1, 1, Buffer.alloc(12));
    wrongVersion[12] = 0x31;
    expect(parseProxyHeader(wrongVersion)).toMatchObject({ problem: "unsupported PROXY version" });
  });
});
