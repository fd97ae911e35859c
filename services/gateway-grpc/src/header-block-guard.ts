/**
 * Sits between a client connection and the HTTP/2 server and rewrites each request header block.
 *
 * Why: Bun's HTTP/2 server ends the whole connection (GOAWAY COMPRESSION_ERROR) when a header block
 * passes about 64 KiB, whatever `maxHeaderListSize` says, so a client that sends a 150 KiB
 * `authorization` value gets INTERNAL and every other call on its connection dies too. The guard
 * decodes every block itself (mirroring the client's HPACK state), forwards lists within
 * `maxMetadataBytes` as plain literals, and replaces a larger list by its routing headers plus
 * `oversizeMarker`, so the call reaches grpc-js and is refused there with RESOURCE_EXHAUSTED while the
 * connection goes on. Only frame headers of other frames are read; their bytes pass unchanged.
 */
import { Duplex } from "node:stream";
import { encodeLiterals, HpackDecoder, HpackError } from "./hpack.ts";

/** Set by the guard on a call whose metadata was too large; its value is the list size in bytes. */
export const oversizeMarker = "secrets-oversize-metadata";

/** A header block larger than this (before decoding) closes the connection: nobody sends one honestly. */
export const maxHeaderBlockBytes = 1024 * 1024;

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const frameHeaderBytes = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value; the server behind the guard never raises it. */
const maxFrameBytes = 16_384;
const frameType = { headers: 0x1, continuation: 0x9 } as const;
const flag = { endStream: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;

/** Headers kept on an oversized call so that grpc-js routes it and answers it. */
const routingHeaders = new Set([":method", ":scheme", ":path", ":authority", "content-type", "te"]);
const maxRoutingValueBytes = 1024;

export interface HeaderBlockGuardOptions {
  /** Largest header list (RFC 7540 §6.5.2 size) passed on as it is. */
  maxMetadataBytes: number;
  /** Called once when the client's preface has arrived (the connection speaks HTTP/2). */
  onPreface?: () => void;
  /** Called once when the guard closes the connection, with why. */
  onViolation?: (reason: string) => void;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HEADERS and as many CONTINUATION frames as `block` needs. */
function headerFrames(streamId: number, endStream: boolean, block: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let start = 0; start === 0 || start < block.length; start += maxFrameBytes) {
    const fragment = block.subarray(start, start + maxFrameBytes);
    const last = start + maxFrameBytes >= block.length;
    const flags = (last ? flag.endHeaders : 0) | (start === 0 && endStream ? flag.endStream : 0);
    frames.push(frame(start === 0 ? frameType.headers : frameType.continuation, flags, streamId, fragment));
  }
  return frames;
}

/**
 * Raises SETTINGS_MAX_HEADER_LIST_SIZE in the server's first SETTINGS frame to `maxHeaderBlockBytes`:
 * Bun advertises 64 KiB, and clients (nghttp2) then fail a larger call themselves with a connection
 * error instead of letting the gateway answer it. Returns undefined until the frame is complete.
 */
export function raiseHeaderListSize(serverBytes: Buffer): Buffer | undefined {
  if (serverBytes.length < frameHeaderBytes) return undefined;
  const length = serverBytes.readUIntBE(0, 3);
  if (serverBytes.length < frameHeaderBytes + length) return undefined;
  const out = Buffer.from(serverBytes);
  if (out[3] === 0x4 && ((out[4] ?? 0) & 0x1) === 0) {
    for (let at = frameHeaderBytes; at + 6 <= frameHeaderBytes + length; at += 6) {
      if (out.readUInt16BE(at) === 0x6) out.writeUInt32BE(maxHeaderBlockBytes, at + 2);
    }
  }
  return out;
}

/** The parsing half: bytes from the client in, bytes for the server out. Throws on a violation. */
export class HeaderBlockRewriter {
  private readonly decoder = new HpackDecoder();
  private pending: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private block: { streamId: number; endStream: boolean; fragments: Buffer[]; bytes: number } | undefined;

  constructor(
    private readonly maxMetadataBytes: number,
    private readonly onPreface?: () => void,
  ) {}

  /** Consumes `chunk`; returns what to pass on (possibly nothing yet). */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      const have = Math.min(this.pending.length, preface.length);
      if (!this.pending.subarray(0, have).equals(preface.subarray(0, have))) {
        throw new HpackError("not an HTTP/2 connection preface");
      }
      if (this.pending.length < preface.length) return out;
      out.push(this.pending.subarray(0, preface.length));
      this.pending = this.pending.subarray(preface.length);
      this.prefaceSeen = true;
      this.onPreface?.();
    }
    while (this.pending.length >= frameHeaderBytes) {
      const length = this.pending.readUIntBE(0, 3);
      if (length > maxFrameBytes) throw new HpackError(`frame of ${length} bytes over ${maxFrameBytes}`);
      if (this.pending.length < frameHeaderBytes + length) break;
      const whole = this.pending.subarray(0, frameHeaderBytes + length);
      this.pending = this.pending.subarray(frameHeaderBytes + length);
      const type = whole[3] ?? 0;
      const flags = whole[4] ?? 0;
      const streamId = whole.readUInt32BE(5) & 0x7fffffff;
      const payload = whole.subarray(frameHeaderBytes);
      if (this.block) {
        if (type !== frameType.continuation || streamId !== this.block.streamId) {
          throw new HpackError("header block interrupted by another frame");
        }
        this.addFragment(payload, flags, out);
      } else if (type === frameType.headers) {
        let start = 0;
        let padding = 0;
        if (flags & flag.padded) {
          padding = payload[0] ?? 0;
          start = 1;
        }
        if (flags & flag.priority) start += 5;
        if (start + padding > payload.length) throw new HpackError("HEADERS padding longer than the frame");
        this.block = { streamId, endStream: (flags & flag.endStream) !== 0, fragments: [], bytes: 0 };
        this.addFragment(payload.subarray(start, payload.length - padding), flags, out);
      } else if (type === frameType.continuation) {
        throw new HpackError("CONTINUATION without HEADERS");
      } else {
        out.push(whole);
      }
    }
    // Keep the unread tail in its own buffer so the chunk it came from can be collected.
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
    return out;
  }

  private addFragment(fragment: Buffer, flags: number, out: Buffer[]): void {
    const block = this.block;
    if (!block) return;
    block.fragments.push(Buffer.from(fragment));
    block.bytes += fragment.length;
    if (block.bytes > maxHeaderBlockBytes) {
      throw new HpackError(`header block over ${maxHeaderBlockBytes} bytes`);
    }
    if ((flags & flag.endHeaders) === 0) return;
    this.block = undefined;
    const decoded = this.decoder.decode(Buffer.concat(block.fragments), this.maxMetadataBytes, (name) =>
      routingHeaders.has(name.toString("latin1")),
    );
    let headers = decoded.headers.filter(([name]) => name.toString("latin1") !== oversizeMarker);
    if (decoded.truncated) {
      headers = headers.filter(
        ([name, value]) =>
          routingHeaders.has(name.toString("latin1")) && value.length <= maxRoutingValueBytes,
      );
      headers.push([Buffer.from(oversizeMarker), Buffer.from(String(decoded.listBytes))]);
    }
    out.push(...headerFrames(block.streamId, block.endStream, encodeLiterals(headers)));
  }
}

/**
 * Wraps `socket` in a duplex whose readable side carries the rewritten client bytes; the server's
 * bytes are written to `socket` unchanged. The wrapper answers the address getters the HTTP/2 server
 * and grpc-js read, so peers are reported as before.
 */
export function guardHeaderBlocks(
  socket: Duplex & AddressInfoLike,
  options: HeaderBlockGuardOptions,
): Duplex {
  const rewriter = new HeaderBlockRewriter(options.maxMetadataBytes, options.onPreface);
  let violated = false;
  let serverHead: Buffer | undefined = Buffer.alloc(0);
  const guarded = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (socket.destroyed) return callback();
      if (serverHead !== undefined) {
        serverHead = Buffer.concat([serverHead, chunk]);
        const head = raiseHeaderListSize(serverHead);
        if (head === undefined) return callback();
        serverHead = undefined;
        chunk = head;
      }
      if (socket.write(chunk)) callback();
      else socket.once("drain", () => callback());
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  for (const key of ["remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort"] as const) {
    Object.defineProperty(guarded, key, { get: () => socket[key], enumerable: true });
  }
  socket.on("data", (chunk: Buffer) => {
    if (violated) return;
    let out: Buffer[];
    try {
      out = rewriter.push(chunk);
    } catch (error) {
      violated = true;
      options.onViolation?.((error as Error).message);
      socket.destroy();
      return;
    }
    if (out.length > 0 && !guarded.push(out.length === 1 ? out[0] : Buffer.concat(out))) socket.pause();
  });
  socket.on("end", () => guarded.push(null));
  socket.on("close", () => guarded.destroy());
  socket.on("error", () => guarded.destroy());
  return guarded;
}

/** The address fields of a `net.Socket` that the wrapper passes through. */
export interface AddressInfoLike {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly remoteFamily?: string | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}
