/**
 * The gateway under attack at the transport, on the real processes: oversized metadata gets a status
 * and the connection goes on; a flood of headers-only streams on one connection is refused past the
 * stream limit, ended after the request-message deadline and leaves the gateway's memory bounded while
 * an approved service is served; sockets that never finish TLS are closed after the handshake timeout;
 * connections beyond the per-address limit are closed on accept.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { join } from "node:path";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { GetSecretRequest } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../support/admin-bus-client.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { repoRoot } from "../support/processes.ts";
import { provisionService } from "../support/provision.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

const limits = {
  streams: 100,
  perAddress: 30,
  handshakeMs: 1_000,
  requestMessageMs: 2_000,
  metadataBytes: 8_192,
};
/** What 10,000 refused or expired streams may add to the gateway's resident memory. */
const floodRssBoundMb = 64;

let stack: Stack;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let grpc: ReturnType<typeof secretsClient>;
const service = { name: "transport-bounded", token: newServiceToken() };

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault();
  gateway = await stack.startGateway({
    GRPC_MAX_CONCURRENT_STREAMS: String(limits.streams),
    GRPC_MAX_CONNECTIONS_PER_ADDRESS: String(limits.perAddress),
    GRPC_HANDSHAKE_TIMEOUT_MS: String(limits.handshakeMs),
    GRPC_REQUEST_MESSAGE_TIMEOUT_MS: String(limits.requestMessageMs),
    GRPC_MAX_METADATA_BYTES: String(limits.metadataBytes),
  });
  grpc = secretsClient(gateway.address, gateway.caFile);
  await provisionService(grpc, adminBusClient(stack.bus), service, { BOUNDED_KEY: "bounded-value" });
}, 60_000);

afterAll(async () => {
  grpc?.close();
  await stack?.dispose();
});

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(line?.[1] ?? 0) / 1024;
}

/** Runs `test/support/node-h2-two-calls.mjs` under Node.js: a real nghttp2 client, as attackers use. */
async function nodeTwoCalls(hugeBytes: number) {
  const request = Buffer.from(
    GetSecretRequest.encode({ secretName: "BOUNDED_KEY", description: "", token: "" }).finish(),
  ).toString("hex");
  // `bun --bun` puts its own `node` first on PATH: the real Node.js is asked for by path.
  const node = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => existsSync(path)) ?? "node";
  const child = Bun.spawn(
    [
      node,
      join(repoRoot, "test/support/node-h2-two-calls.mjs"),
      String(gateway.port),
      gateway.caFile,
      String(hugeBytes),
      service.token,
      request,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => child.kill(), 15_000);
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  if ((await child.exited) !== 0) throw new Error(`node client failed: ${err}`);
  return JSON.parse(out) as {
    huge: { status: string; message: string; rstCode?: number };
    next: { status: string };
    goaway: boolean;
    open: boolean;
  };
}

describe("oversized metadata", () => {
  it("answers a 150 KB authorization value with RESOURCE_EXHAUSTED, and the same connection serves the next call", async () => {
    const outcome = await nodeTwoCalls(150 * 1024);
    expect(outcome.huge.status).toBe("8");
    expect(outcome.huge.message).toMatch(
      /request metadata is \d+ bytes; the gateway accepts at most 8192 \(GRPC_MAX_METADATA_BYTES\)/,
    );
    expect(outcome.next.status).toBe("0");
    expect(outcome.goaway).toBe(false);
    expect(outcome.open).toBe(true);
  });

  it("answers metadata over the limit from grpc-js with RESOURCE_EXHAUSTED and a message", async () => {
    const refused = await grpc.getSecret("BOUNDED_KEY", "a".repeat(20 * 1024));
    expect(refused.code).toBe("RESOURCE_EXHAUSTED");
    expect(refused.details).toMatch(/request metadata is \d+ bytes; the gateway accepts at most 8192/);
    expect((await grpc.getSecret("BOUNDED_KEY", service.token)).ok).toBe(true);
  });
});

/** HPACK literal without indexing, new name, no Huffman (RFC 7541 §6.2.2); values under 127 bytes. */
function literalBlock(headers: [string, string][]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [
      Buffer.from([0x00, name.length]),
      Buffer.from(name),
      Buffer.from([value.length]),
      Buffer.from(value),
    ]),
  );
}

function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/**
 * A client that writes HTTP/2 frames itself, as an attacker would, ignoring the server's stream limit;
 * it acknowledges SETTINGS and PING so the server keeps the connection, and tallies what comes back.
 */
function rawHttp2Client(port: number, ca: Buffer) {
  const socket: TLSSocket = connectTls({
    host: "127.0.0.1",
    port,
    servername: "localhost",
    ca,
    ALPNProtocols: ["h2"],
  });
  const tally = { refused: 0, reset: 0, statuses: new Map<number, number>(), goaway: false, closed: false };
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const type = pending[3];
      const flags = pending[4] ?? 0;
      const streamId = pending.readUInt32BE(5) & 0x7fffffff;
      const payload = pending.subarray(9, 9 + length);
      pending = Buffer.from(pending.subarray(9 + length));
      if (type === 0x4 && !(flags & 0x1)) socket.write(h2Frame(0x4, 0x1, 0, Buffer.alloc(0)));
      if (type === 0x6 && !(flags & 0x1)) socket.write(h2Frame(0x6, 0x1, 0, payload));
      if (type === 0x3) {
        if (payload.readUInt32BE(0) === 0x7) tally.refused += 1;
        else tally.reset += 1;
      }
      if (type === 0x1 && flags & 0x1) tally.statuses.set(streamId, Date.now());
      if (type === 0x7) tally.goaway = true;
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    tally.closed = true;
  });
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => {
      socket.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
      socket.write(h2Frame(0x4, 0, 0, Buffer.alloc(0)));
      resolve();
    });
    socket.once("error", reject);
  });
  return { socket, tally, ready };
}

const headersOnly = literalBlock([
  [":method", "POST"],
  [":scheme", "https"],
  [":path", "/secrets.v1.SecretsService/GetSecret"],
  [":authority", "localhost"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
]);

/** HEADERS with END_HEADERS and without END_STREAM: calls that never send their message. */
function openHeadersOnly(socket: TLSSocket, count: number): void {
  for (let start = 0; start < count; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 500); i++)
      batch.push(h2Frame(0x1, 0x4, 1 + 2 * i, headersOnly));
    socket.write(Buffer.concat(batch));
  }
}

describe("headers-only stream flood", () => {
  it("ends 10,000 headers-only streams on one connection past the stream limit, keeps memory bounded and serves an approved call meanwhile", async () => {
    const before = rssMb(gateway.process.pid);
    const attacker = rawHttp2Client(gateway.port, readFileSync(gateway.caFile));
    await attacker.ready;
    const streams = 10_000;
    const opened = Date.now();
    openHeadersOnly(attacker.socket, streams);
    const served = await grpc.getSecret("BOUNDED_KEY", service.token);
    expect(served).toMatchObject({ ok: true, code: "OK" });
    expect(served.response?.value).toBe("bounded-value");

    const { tally } = attacker;
    const deadline = Date.now() + limits.requestMessageMs + 5_000;
    while (Date.now() < deadline && !tally.closed && tally.refused + tally.statuses.size < streams) {
      await Bun.sleep(100);
    }
    const settled = Date.now() - opened;
    const peak = rssMb(gateway.process.pid);
    // Past the limit each stream is refused (REFUSED_STREAM), and once a connection has had 100
    // refused, Bun's HTTP/2 server closes it: either way no more than the limit was ever served.
    expect(tally.statuses.size).toBeLessThanOrEqual(limits.streams);
    expect(tally.closed || tally.refused >= streams - limits.streams).toBe(true);
    expect(peak - before).toBeLessThan(floodRssBoundMb);
    console.log(
      `flood of ${streams}: ${tally.refused} refused, ${tally.statuses.size} answered, connection ${tally.closed ? "closed" : "open"} after ${settled} ms; gateway RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB after`,
    );
    attacker.socket.destroy();
    expect((await grpc.getSecret("BOUNDED_KEY", service.token)).ok).toBe(true);
  }, 30_000);

  it("ends headers-only streams within the limit after the request-message deadline, and resets them", async () => {
    const attacker = rawHttp2Client(gateway.port, readFileSync(gateway.caFile));
    await attacker.ready;
    const opened = Date.now();
    openHeadersOnly(attacker.socket, limits.streams);
    const { tally } = attacker;
    while (Date.now() - opened < limits.requestMessageMs + 5_000 && tally.reset < limits.streams) {
      await Bun.sleep(100);
    }
    expect(tally.refused).toBe(0);
    expect(tally.statuses.size).toBe(limits.streams);
    expect(tally.reset).toBe(limits.streams);
    const ended = [...tally.statuses.values()].map((at) => at - opened);
    expect(Math.min(...ended)).toBeGreaterThanOrEqual(limits.requestMessageMs - 200);
    expect(Math.max(...ended)).toBeLessThan(limits.requestMessageMs + 3_000);
    expect(tally.closed).toBe(false);
    attacker.socket.destroy();
  }, 20_000);
});

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

describe("connection flood and slow TLS", () => {
  it("closes sockets that never start TLS after the handshake timeout", async () => {
    const started = Date.now();
    const sockets = await Promise.all(Array.from({ length: 10 }, () => tcpConnect(gateway.port)));
    const closed = await Promise.all(
      sockets.map((socket) => closedWithin(socket, limits.handshakeMs + 2_000)),
    );
    expect(closed.every(Boolean)).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(limits.handshakeMs - 100);
    expect(elapsed).toBeLessThan(limits.handshakeMs + 2_000);
  });

  it("closes connections from one address beyond the limit on accept, and serves again once they are gone", async () => {
    // The test's own gRPC channel holds one connection from this address.
    const held = await Promise.all(
      Array.from({ length: limits.perAddress - 1 }, () => tcpConnect(gateway.port)),
    );
    await Bun.sleep(100);
    const beyond = await tcpConnect(gateway.port);
    expect(await closedWithin(beyond, 500)).toBe(true);
    expect(held.every((socket) => !socket.destroyed)).toBe(true);
    for (const socket of held) socket.destroy();
    await Bun.sleep(200);
    const fresh = secretsClient(gateway.address, gateway.caFile);
    try {
      expect((await fresh.getSecret("BOUNDED_KEY", service.token)).ok).toBe(true);
    } finally {
      fresh.close();
    }
  });
});
