import { auditLogLine } from "@secrets/bus";
import { AuditSinkName } from "../config.ts";
import { type AuditSink, failureReason } from "./sink.ts";

/** Writes text and resolves once it has been handed to the output. */
export type TextWriter = (text: string) => Promise<void>;

/** process.stdout, the same stream the log lines use, so the two never interleave mid-line. */
export const writeToStdout: TextWriter = (text) =>
  new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });

/** One `auditLogLine` per event on stdout, for a log collector that ships the process's output. */
export function createStdoutSink(write: TextWriter = writeToStdout): AuditSink {
  return {
    name: AuditSinkName.stdout,
    async write(events) {
      if (events.length === 0) return { status: "accepted" };
      try {
        await write(events.map((event) => `${auditLogLine(event)}\n`).join(""));
        return { status: "accepted" };
      } catch (error) {
        return { status: "retry", reason: failureReason(error) };
      }
    },
  };
}
