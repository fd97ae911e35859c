import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditEvent } from "@secrets/proto/audit";
import { afterEach, describe, expect, it } from "vitest";
import { createFileSink } from "../sinks/file-sink.ts";
import { createFileQueryBackend } from "./file-query-backend.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function journal() {
  const dir = mkdtempSync(join(tmpdir(), "audit-journal-"));
  dirs.push(dir);
  return join(dir, "nested", "audit.jsonl");
}

const now = Date.now();
const event = (id: string, ageMs: number, fields: Partial<AuditEvent> = {}) =>
  AuditEvent.fromPartial({ id, timestampMs: now - ageMs, event: "secret.get", success: true, ...fields });

describe("file sink and file query backend", () => {
  it("appends lines durably and answers queries newest first, each id once", async () => {
    const path = journal();
    const sink = createFileSink(path);
    expect(await sink.write([event("a", 3_000, { secretName: "DB_URL" }), event("b", 2_000)])).toEqual({
      status: "accepted",
    });
    // A retried batch writes a line again; a stray line is skipped.
    await sink.write([event("b", 2_000), event("c", 1_000, { secretName: "DB_URL", serviceName: "orders" })]);
    writeFileSync(path, "not json\n", { flag: "a" });
    const backend = createFileQueryBackend(path);
    const all = await backend.query({ fromMs: now - 60_000, toMs: now, limit: 100 });
    expect(all.map((e) => e.id)).toEqual(["c", "b", "a"]);
    expect(all[0]).toEqual(event("c", 1_000, { secretName: "DB_URL", serviceName: "orders" }));
    const bySecret = await backend.query({ secretName: "DB_URL", fromMs: now - 60_000, toMs: now, limit: 1 });
    expect(bySecret.map((e) => e.id)).toEqual(["c"]);
  });

  it("keeps the newest matches of a long journal within the limit", async () => {
    const path = journal();
    const sink = createFileSink(path);
    await sink.write(Array.from({ length: 500 }, (_, i) => event(`e${String(i).padStart(3, "0")}`, 500 - i)));
    const found = await createFileQueryBackend(path).query({ fromMs: now - 60_000, toMs: now, limit: 3 });
    expect(found.map((e) => e.id)).toEqual(["e499", "e498", "e497"]);
  });

  it("answers nothing when the journal does not exist yet, and retries when it cannot write", async () => {
    expect(await createFileQueryBackend(journal()).query({ fromMs: 0, toMs: now, limit: 10 })).toEqual([]);
    expect(await createFileSink("/proc/not-writable/audit.jsonl").write([event("a", 0)])).toMatchObject({
      status: "retry",
    });
  });
});
