/**
 * Where the gateway's log lines go: stdout (info and below) and stderr (warn and error), as the logger's
 * default does, but the lines of one turn of the event loop leave in one write. The gateway logs one line
 * per call; under load a write per line was a measurable share of its CPU (see bench/README.md). A line
 * waits a few microseconds at most, and `flush()` (on shutdown and at exit) writes what is pending.
 */
import { writeSync } from "node:fs";
import type { LogLevel } from "@secrets/logger";

export function createCoalescedLogWriter(
  streams: { out: (text: string) => void; err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
) {
  let out = "";
  let err = "";
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    if (out) streams.out(out);
    if (err) streams.err(err);
    out = "";
    err = "";
  }

  return {
    write(line: string, level: LogLevel): void {
      if (level === "warn" || level === "error") err += `${line}\n`;
      else out += `${line}\n`;
      if (scheduled) return;
      scheduled = true;
      setImmediate(flush);
    },
    flush,
    /** At process exit nothing asynchronous runs any more: write what is left synchronously. */
    flushSync(): void {
      if (out) writeSync(1, out);
      if (err) writeSync(2, err);
      out = "";
      err = "";
    },
  };
}
