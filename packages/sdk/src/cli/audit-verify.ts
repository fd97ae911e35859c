/**
 * `secrets audit verify <file|-> --public-key <file>`: checks an exported audit trail (the file sink,
 * the embedded journal, or lines exported from Loki) against the audit service's public key and lists
 * every problem with its position; exit 1 when there is any.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parsePublicKey, type TrailProblem, verifyTrail } from "@secrets/audit-chain";
import { CliError } from "./cli-error.ts";
import { readInput } from "./import-env.ts";
import type { CliIo } from "./io.ts";

export interface AuditVerifyOptions {
  file: string;
  publicKeyFile: string;
  /** False for a Loki export, which is in time order rather than chain order. */
  ordered: boolean;
}

function where(problem: TrailProblem): string {
  const position =
    problem.seq === undefined
      ? ""
      : problem.toSeq !== undefined && problem.toSeq !== problem.seq
        ? `positions ${problem.seq}..${problem.toSeq}`
        : `position ${problem.seq}`;
  const line = problem.line === undefined ? "" : `line ${problem.line}`;
  return [position, line].filter(Boolean).join(", ");
}

function readPublicKey(io: CliIo, file: string) {
  let pem: string;
  try {
    pem = readFileSync(resolve(io.cwd, file), "utf8");
  } catch {
    throw new CliError(`${file}: cannot read the public key`);
  }
  try {
    return parsePublicKey(pem);
  } catch {
    throw new CliError(`${file}: not an Ed25519 public key (audit-signing.pub)`);
  }
}

/** Returns the exit code: 0 when the trail is intact, 1 when anything is wrong. */
export async function runAuditVerify(io: CliIo, options: AuditVerifyOptions): Promise<number> {
  const publicKey = readPublicKey(io, options.publicKeyFile);
  const { text, name } = await readInput(io, options.file);
  const report = verifyTrail(text.split("\n"), publicKey, { ordered: options.ordered });
  const range =
    report.firstSeq === undefined ? "no chained events" : `positions ${report.firstSeq}..${report.lastSeq}`;
  io.stdout(
    `${name}: ${report.events} events, ${range}; ${report.validDigests} valid digests, signed through position ${report.signedThroughSeq}`,
  );
  if (report.lastSeq !== undefined && report.signedThroughSeq < report.lastSeq) {
    io.stdout(`positions after ${report.signedThroughSeq} are chained but not yet covered by a digest`);
  }
  for (const seq of report.restarts) io.stdout(`note: the chain starts afresh at position ${seq}`);
  for (const problem of report.problems)
    io.stdout(`${problem.kind.padEnd(10)} ${where(problem)}: ${problem.detail}`);
  if (report.ok) {
    io.stdout("the trail is intact");
    return 0;
  }
  io.stderr(`secrets: ${report.problems.length} problem(s): the trail is not intact`);
  return 1;
}
