/**
 * Fault: the embedded mode's audit journal (`bun run dev`, `<data>/audit/journal.jsonl`, fsynced before a
 * value leaves) becomes read-only, then sits on a full disk. GetSecret over gRPC fails closed each time
 * (UNAVAILABLE, AUDIT_UNAVAILABLE, no value), serves again once the journal can be written, and every
 * value that was returned has its audit line in the journal.
 *
 * Read-only: `chattr +i` on the open journal (the tests run as root, which file modes would not stop).
 * Full disk: the journal's path pointed at /dev/full (every write: ENOSPC). The journal keeps its file
 * open while writes succeed and reopens it after a failure, so the path is swapped while it is refused.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../../support/admin-http.ts";
import { type CallOutcome, secretsClient } from "../../support/grpc-client.ts";
import { freePort } from "../../support/nats-server.ts";
import { type ServiceProcess, startService } from "../../support/processes.ts";
import { newServiceToken } from "../../support/tokens.ts";

const dataDir = mkdtempSync(join(tmpdir(), "embedded-journal-"));
const journal = join(dataDir, "audit", "journal.jsonl");
const parked = join(dataDir, "audit", "journal.aside");
let dev: ServiceProcess;
let grpc: ReturnType<typeof secretsClient>;
let adminPort = 0;
const value = `embedded-${crypto.randomUUID()}`;
const service = { name: "checkout", token: newServiceToken() };

function chattr(flag: "+i" | "-i", path: string): void {
  const result = Bun.spawnSync(["chattr", flag, path], { stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(
      `chattr ${flag} ${path} failed (this test needs root, as CI runs): ${result.stderr.toString()}`,
    );
  }
}

beforeAll(async () => {
  const grpcPort = await freePort();
  adminPort = await freePort();
  dev = await startService("dev", "run dev", {
    env: { SECRETS_DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), ADMIN_PORT: String(adminPort) },
    readyLog: "secrets dev ready",
    readyTimeoutMs: 60_000,
  });
  const adminToken = dev.lines.join("\n").match(/Admin token:\s+(ssadm_[A-Za-z0-9_-]{43})/)?.[1] ?? "";
  grpc = secretsClient(`localhost:${grpcPort}`, join(dataDir, "tls", "ca.crt"));
  const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
  const credential = { token: adminToken };
  await http.send("POST", "/secrets", { credential, body: { name: "PAYMENT_KEY", value } });
  await http.send("POST", "/access-requests", {
    credential,
    body: { secretName: "PAYMENT_KEY", serviceName: service.name },
  });
  await grpc.registerToken(service.name, service.token);
  const pending = await http.send("GET", "/service-tokens?status=pending", { credential });
  await http.send("POST", `/service-tokens/${pending.json.serviceTokens[0].id}/approve`, { credential });
});

afterAll(async () => {
  grpc?.close();
  Bun.spawnSync(["chattr", "-i", journal]);
  Bun.spawnSync(["chattr", "-i", parked]);
  await dev?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const read = () => grpc.getSecret("PAYMENT_KEY", service.token, { deadlineMs: 5_000 });

function expectFailedClosed(outcome: CallOutcome<{ value: string }>): void {
  expect(outcome).toMatchObject({ ok: false, code: "UNAVAILABLE", reason: "AUDIT_UNAVAILABLE" });
  expect(outcome.response).toBeUndefined();
  expect(JSON.stringify(outcome)).not.toContain(value);
}

describe("the embedded audit journal on a read-only or full disk", () => {
  const served: string[] = [];

  it("fails GetSecret closed while the journal is read-only, and serves again once it is writable", async () => {
    const before = await read();
    expect(before).toMatchObject({ ok: true, response: { value } });
    served.push(before.requestId);

    chattr("+i", journal);
    try {
      for (let i = 0; i < 3; i++) expectFailedClosed(await read());
    } finally {
      chattr("-i", journal);
    }
    const after = await read();
    expect(after).toMatchObject({ ok: true, response: { value } });
    served.push(after.requestId);
  });

  it("fails GetSecret closed while the disk is full, and serves again once there is space", async () => {
    // Refused once more so that the journal lets go of its file; then its path leads to a full disk.
    chattr("+i", journal);
    expectFailedClosed(await read());
    chattr("-i", journal);
    renameSync(journal, parked);
    symlinkSync("/dev/full", journal);
    try {
      for (let i = 0; i < 3; i++) expectFailedClosed(await read());
    } finally {
      rmSync(journal);
      renameSync(parked, journal);
    }
    const after = await read();
    expect(after).toMatchObject({ ok: true, response: { value } });
    served.push(after.requestId);
    expect(dev.lines.some((line) => line.includes("ENOSPC"))).toBe(true);
  });

  it("holds an audit line for every value it returned, and still answers audit queries", async () => {
    const lines = readFileSync(journal, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const gets = lines.filter((line) => line.event === "secret.get" && line.success === true);
    expect(gets.map((line) => line.request_id)).toEqual(served);
    const token = dev.lines.join("\n").match(/Admin token:\s+(ssadm_[A-Za-z0-9_-]{43})/)?.[1] ?? "";
    const http = adminHttpClient(`http://127.0.0.1:${adminPort}`);
    const audit = await http.send("GET", "/audit?secret=PAYMENT_KEY&outcome=success", {
      credential: { token },
    });
    expect(audit.status).toBe(200);
    expect(audit.json.events.map((e: { requestId: string }) => e.requestId).sort()).toEqual(
      expect.arrayContaining([...served].sort()),
    );
  });
});
