import { describe, expect, it } from "vitest";
import { HeaderBlockRewriter, oversizeMarker } from "./header-block-guard.ts";
import { encodeLiterals, HpackDecoder, HpackError, huffmanCodes } from "./hpack.ts";

const text = (headers: [Buffer, Buffer][]) => headers.map(([n, v]) => [n.toString(), v.toString()]);

describe("HPACK decoder", () => {
  it("derives the RFC 7541 Huffman codes from their lengths", () => {
    // A few codes from Appendix B: '0', 'a', ' ', 0x00, 255.
    expect(huffmanCodes[48]).toBe(0x0);
    expect(huffmanCodes[97]).toBe(0x3);
    expect(huffmanCodes[32]).toBe(0x14);
    expect(huffmanCodes[0]).toBe(0x1ff8);
    expect(huffmanCodes[255]).toBe(0x3ffffee);
  });

  it("decodes the RFC 7541 examples C.3.1 (plain) and C.4.1 (Huffman)", () => {
    const expected = [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ];
    const plain = new HpackDecoder().decode(
      Buffer.from("828684410f7777772e6578616d706c652e636f6d", "hex"),
      8192,
    );
    expect(text(plain.headers)).toEqual(expected);
    const huffman = new HpackDecoder().decode(Buffer.from("828684418cf1e3c2e5f23a6ba0ab90f4ff", "hex"), 8192);
    expect(text(huffman.headers)).toEqual(expected);
    expect(huffman.listBytes).toBe(
      expected.reduce((sum, [n = "", v = ""]) => sum + n.length + v.length + 32, 0),
    );
  });

  it("keeps the dynamic table in step, and refuses malformed blocks", () => {
    const decoder = new HpackDecoder();
    // C.3.1 inserts :authority www.example.com; C.3.2 refers to it as index 62.
    decoder.decode(Buffer.from("828684410f7777772e6578616d706c652e636f6d", "hex"), 8192);
    const second = decoder.decode(Buffer.from("828684be58086e6f2d6361636865", "hex"), 8192);
    expect(text(second.headers)).toContainEqual([":authority", "www.example.com"]);
    expect(text(second.headers)).toContainEqual(["cache-control", "no-cache"]);
    expect(() => new HpackDecoder().decode(Buffer.from("ff", "hex"), 8192)).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(Buffer.from("c0", "hex"), 8192)).toThrow(HpackError);
  });
});

function headersFrame(streamId: number, block: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(block.length, 0, 3);
  header[3] = 0x1;
  header[4] = 0x4;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, block]);
}

describe("header-block rewriter", () => {
  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const call = (authorization: string) =>
    encodeLiterals(
      [
        [":method", "POST"],
        [":path", "/secrets.v1.SecretsService/GetSecret"],
        ["authorization", authorization],
        ["content-type", "application/grpc"],
      ].map(([n = "", v = ""]) => [Buffer.from(n), Buffer.from(v)] as const),
    );

  it("passes small lists on and replaces a large one by its routing headers and the marker", () => {
    const rewriter = new HeaderBlockRewriter(8192);
    const out = Buffer.concat(
      rewriter.push(
        Buffer.concat([
          preface,
          headersFrame(1, call("Bearer x")),
          headersFrame(3, call("a".repeat(150_000).slice(0, 16_000))),
        ]),
      ),
    );
    const decoder = new HpackDecoder();
    const blocks: [string, string][][] = [];
    let at = preface.length;
    while (at < out.length) {
      const length = out.readUIntBE(at, 3);
      blocks.push(
        text(decoder.decode(out.subarray(at + 9, at + 9 + length), 1 << 20).headers) as [string, string][],
      );
      at += 9 + length;
    }
    expect(blocks[0]).toContainEqual(["authorization", "Bearer x"]);
    expect(blocks[1]?.map(([n]) => n)).toEqual([":method", ":path", "content-type", oversizeMarker]);
  });

  it("refuses what is not HTTP/2", () => {
    expect(() => new HeaderBlockRewriter(8192).push(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toThrow(
      HpackError,
    );
  });
});
