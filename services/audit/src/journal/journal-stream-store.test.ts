import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyTrail } from "@secrets/audit-chain";
import { auditEventsTopic, auditStreamSpec, ErrorCode, MemoryBus, publishDurable } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { AuditEvent } from "@secrets/proto/audit";
import { afterEach, describe, expect, it } from "vitest";
import { createFileQueryBackend } from "../query/file-query-backend.ts";
import { JournalStreamStore } from "./journal-stream-store.ts";

// The embedded journal has no digests: any key does, the chain alone is checked.
const anyKey = generateKeyPairSync("ed25519").publicKey;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function journalBus() {
  const dir = mkdtempSync(join(tmpdir(), "journal-"));
  dirs.push(dir);
  const store = new JournalStreamStore(join(dir, "audit", "journal.jsonl"));
  const bus = new MemoryBus({ namespace: "secrets", logger: silentLogger, streams: store });
  await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
  return { dir, store, bus };
}

const event = (id: string, secretName = "DB_URL") =>
  AuditEvent.fromPartial({
    id,
    timestampMs: Date.now(),
    level: "info",
    event: "secret.get",
    success: true,
    secretName,
  });

const publish = (bus: MemoryBus, e: AuditEvent) =>
  publishDurable(bus, auditEventsTopic, e, { msgId: e.id, timeoutMs: 1_000 });

describe("the embedded audit journal", () => {
  it("hash-chains its lines in write order, continuing the chain after a restart", async () => {
    const { store, bus } = await journalBus();
    await Promise.all(Array.from({ length: 20 }, (_, i) => publish(bus, event(`c${i}`))));
    await store.close();
    const restarted = new JournalStreamStore(store.path);
    const again = new MemoryBus({ namespace: "secrets", logger: silentLogger, streams: restarted });
    await again.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
    for (let i = 20; i < 25; i++) await publish(again, event(`c${i}`));
    await restarted.close();
    const lines = readFileSync(store.path, "utf8").split("\n");
    expect(verifyTrail(lines, anyKey)).toMatchObject({
      ok: true,
      events: 25,
      firstSeq: 1,
      lastSeq: 25,
      restarts: [],
    });
    const edited = lines.map((line) =>
      line.includes('"event_id":"c7"') ? line.replace("DB_URL", "OTHER") : line,
    );
    expect(verifyTrail(edited, anyKey).problems).toEqual([
      expect.objectContaining({ kind: "modified", seq: 8 }),
    ]);
  });

  it("appends one JSONL line per event before acknowledging, shared fsync for concurrent events", async () => {
    const { store, bus } = await journalBus();
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(bus, event(`e${i}`))));
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(50);
    const lines = readFileSync(store.path, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(50);
    expect(lines[0]).toMatchObject({
      service: "secrets-service",
      event: "secret.get",
      secret_name: "DB_URL",
    });
    const found = await createFileQueryBackend(store.path).query({
      fromMs: 0,
      toMs: Date.now() + 1_000,
      limit: 100,
    } as Parameters<ReturnType<typeof createFileQueryBackend>["query"]>[0]);
    expect(found).toHaveLength(50);
    await store.close();
  });

  it("recognises a repeated message id", async () => {
    const { store, bus } = await journalBus();
    await publish(bus, event("same"));
    expect(await publish(bus, event("same"))).toEqual({ seq: 1, duplicate: true });
    expect(readFileSync(store.path, "utf8").trim().split("\n")).toHaveLength(1);
    await store.close();
  });

  it("refuses the publish on a read-only journal, and recovers on a fresh line", async () => {
    const { dir, store, bus } = await journalBus();
    const path = join(dir, "audit", "journal.jsonl");
    await publish(bus, event("before"));
    await store.close();
    // Immutable: even root cannot append (the tests run as root, so file modes would not stop it).
    expect(Bun.spawnSync(["chattr", "+i", path]).exitCode).toBe(0);
    try {
      const refused = await publish(bus, event("refused")).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: ErrorCode.UNAVAILABLE });
    } finally {
      Bun.spawnSync(["chattr", "-i", path]);
    }
    await publish(bus, event("after"));
    const ids = readFileSync(store.path, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line).event_id);
    expect(ids).toEqual(["before", "after"]);
    await store.close();
  });

  it("refuses the publish on a full disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-full-"));
    dirs.push(dir);
    symlinkSync("/dev/full", join(dir, "journal.jsonl"));
    const store = new JournalStreamStore(join(dir, "journal.jsonl"));
    const bus = new MemoryBus({ namespace: "secrets", logger: silentLogger, streams: store });
    await bus.ensureStream(auditStreamSpec({ maxAgeMs: 0, maxBytes: -1 }));
    const refused = await publish(bus, event("lost")).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(String((refused as Error).cause)).toMatch(/ENOSPC|space/i);
    await store.close();
  });
});
