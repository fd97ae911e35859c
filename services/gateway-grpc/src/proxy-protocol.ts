/**
 * The PROXY protocol header (versions 1 and 2, haproxy.org's proxy-protocol.txt) that a TCP balancer
 * puts before the client's bytes, naming the client's address. nginx's stream module sends version 1
 * (`proxy_protocol on`), HAProxy and cloud balancers version 2. The gateway reads it only on connections
 * from a trusted proxy; from anyone else it would be a claim to be another client.
 */
import type { Socket } from "node:net";

/** The 12-byte signature that starts a version 2 header. */
const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Longest version 1 line (the specification's 107 bytes) and version 2 header we accept. */
const v1MaxBytes = 107;
const v2MaxBytes = 16 + 536;

export type ProxyHeader =
  /** More bytes are needed. */
  | { state: "incomplete" }
  | { state: "invalid"; problem: string }
  /**
   * A header of `length` bytes. `address` is the client's, or "" when the proxy spoke for itself
   * (`PROXY UNKNOWN`, a v2 LOCAL command: its own health check), in which case the proxy is the client.
   */
  | { state: "complete"; length: number; address: string };

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let at = 0; at < 16; at += 2) groups.push(bytes.readUInt16BE(at).toString(16));
  return groups.join(":");
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.indexOf("\r\n");
  if (end < 0) {
    return data.byteLength >= v1MaxBytes
      ? { state: "invalid", problem: "PROXY v1 line too long" }
      : { state: "incomplete" };
  }
  const parts = data.subarray(0, end).toString("latin1").split(" ");
  if (parts[1] === "UNKNOWN") return { state: "complete", length: end + 2, address: "" };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6"))
    return { state: "invalid", problem: "malformed PROXY v1 line" };
  return { state: "complete", length: end + 2, address: parts[2] ?? "" };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.byteLength < 16) return { state: "incomplete" };
  const versionCommand = data[12] ?? 0;
  if (versionCommand >> 4 !== 2) return { state: "invalid", problem: "unsupported PROXY version" };
  const length = 16 + data.readUInt16BE(14);
  if (length > v2MaxBytes) return { state: "invalid", problem: "PROXY v2 header too long" };
  if (data.byteLength < length) return { state: "incomplete" };
  const command = versionCommand & 0x0f;
  if (command === 0) return { state: "complete", length, address: "" }; // LOCAL
  if (command !== 1) return { state: "invalid", problem: "unknown PROXY v2 command" };
  const family = (data[13] ?? 0) >> 4;
  const body = data.subarray(16, length);
  if (family === 1 && body.byteLength >= 12)
    return { state: "complete", length, address: [...body.subarray(0, 4)].join(".") };
  if (family === 2 && body.byteLength >= 36) return { state: "complete", length, address: ipv6Text(body) };
  // UNSPEC or UNIX: no IP address to key budgets to; the proxy stands for the client.
  return { state: "complete", length, address: "" };
}

/** Reads a PROXY header at the start of `data` (the bytes received so far). */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  const probe = Math.min(data.byteLength, v2Signature.byteLength);
  if (data.subarray(0, probe).equals(v2Signature.subarray(0, probe))) {
    return probe < v2Signature.byteLength ? { state: "incomplete" } : parseV2(data);
  }
  const v1 = Buffer.from("PROXY ");
  const v1Probe = Math.min(data.byteLength, v1.byteLength);
  if (data.subarray(0, v1Probe).equals(v1.subarray(0, v1Probe))) {
    return v1Probe < v1.byteLength ? { state: "incomplete" } : parseV1(data);
  }
  return { state: "invalid", problem: "the connection did not start with a PROXY protocol header" };
}

/**
 * Reads the PROXY header at the start of `socket` and gives back whatever followed it (the client's TLS
 * hello), so the socket reads on as if the header had never been there. Resolves with the client's
 * address ("" when the proxy spoke for itself); rejects on anything else, or when `timeoutMs` passes.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error("no PROXY header in time")), timeoutMs);
    timer.unref?.();
    function finish(outcome: Error | { address: string; rest: Buffer }) {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (outcome instanceof Error) return reject(outcome);
      socket.pause();
      if (outcome.rest.byteLength > 0) socket.unshift(outcome.rest);
      resolve(outcome.address);
    }
    function onData(chunk: Buffer) {
      received = Buffer.concat([received, chunk]);
      const header = parseProxyHeader(received);
      if (header.state === "incomplete") return;
      if (header.state === "invalid") return finish(new Error(header.problem));
      finish({ address: header.address, rest: received.subarray(header.length) });
    }
    function onClose() {
      finish(new Error("closed before its PROXY header"));
    }
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}
