/**
 * The verifier of an exported audit trail (JSON lines: the file sink, the embedded journal, or lines
 * exported from Loki). Pure: lines and a public key in, a report out. The CLI (`secrets audit verify`) and
 * the audit service use it.
 */
import type { KeyObject } from "node:crypto";
import { canonicalOf, genesisHash, linkHash } from "./chain.ts";
import { digestEventName, digestSignatureValid } from "./digest.ts";
import { type TrailProblem, TrailProblemKind, type TrailReport, type VerifyOptions } from "./verify-types.ts";

interface Link {
  seq: number;
  prev: string;
  hash: string;
  canonical: string;
  line: number;
  selfValid: boolean;
}

interface Digest {
  record: Record<string, unknown>;
  line: number;
}

const isPosition = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0;

/**
 * Checks every line and every digest; see `TrailProblemKind` for what each problem means.
 *
 * @example verifyTrail(text.split("\n"), parsePublicKey(pem)).ok
 */
export function verifyTrail(
  lines: Iterable<string>,
  publicKey: KeyObject,
  options: VerifyOptions = {},
): TrailReport {
  const problems: TrailProblem[] = [];
  const positions = new Map<number, Link[]>();
  const digests: Digest[] = [];
  let highest = 0;
  let lineNo = 0;
  for (const text of lines) {
    lineNo += 1;
    if (text.trim() === "") continue;
    let record: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      record = parsed as Record<string, unknown>;
    } catch {
      problems.push({ kind: TrailProblemKind.modified, line: lineNo, detail: "not a JSON audit line" });
      continue;
    }
    if (record.event === digestEventName) {
      digests.push({ record, line: lineNo });
      continue;
    }
    const { seq, prev_hash: prev, hash } = record;
    if (!isPosition(seq) || typeof prev !== "string" || typeof hash !== "string") {
      problems.push({
        kind: TrailProblemKind.inserted,
        line: lineNo,
        detail: "an event with no position in the chain",
      });
      continue;
    }
    const canonical = canonicalOf(record);
    const taken = positions.get(seq);
    // A retried write appends the same line again: one event, not a problem.
    if (taken?.some((link) => link.canonical === canonical && link.hash === hash)) continue;
    if (options.ordered !== false && seq < highest && !taken?.some((link) => link.canonical === canonical)) {
      problems.push({
        kind: TrailProblemKind.reordered,
        seq,
        line: lineNo,
        detail: `appears after position ${highest}`,
      });
    }
    highest = Math.max(highest, seq);
    const link = { seq, prev, hash, canonical, line: lineNo, selfValid: linkHash(prev, canonical) === hash };
    if (taken) taken.push(link);
    else positions.set(seq, [link]);
  }

  const seqs = [...positions.keys()].sort((a, b) => a - b);
  const chosenHash = new Map<number, string>();
  const restarts: number[] = [];
  let previous: Link | undefined;
  for (const seq of seqs) {
    const candidates = positions.get(seq) ?? [];
    const successors = positions.get(seq + 1) ?? [];
    const recordedNext = (link: Link) => successors.some((next) => next.prev === link.hash);
    // Across a gap (reported as missing) the link cannot be checked.
    const links = (link: Link) =>
      previous === undefined || previous.seq !== seq - 1 || link.prev === previous.hash;
    const score = (link: Link) =>
      (link.selfValid ? 4 : 0) + (recordedNext(link) ? 2 : 0) + (links(link) ? 1 : 0);
    let chosen = candidates[0] as Link;
    for (const candidate of candidates) if (score(candidate) > score(chosen)) chosen = candidate;
    for (const other of candidates) {
      // The same event chained twice (a redelivery after a handover) is one event.
      if (other !== chosen && other.canonical !== chosen.canonical) {
        problems.push({
          kind: TrailProblemKind.inserted,
          seq,
          line: other.line,
          detail: "a second, different event at this position",
        });
      }
    }
    if (!chosen.selfValid) {
      problems.push({
        kind: TrailProblemKind.modified,
        seq,
        line: chosen.line,
        detail: "its content does not match its hash",
      });
    } else if (previous !== undefined && previous.seq === seq - 1 && chosen.prev !== previous.hash) {
      if (chosen.prev === genesisHash) restarts.push(seq);
      else if (previous.selfValid) {
        problems.push({
          kind: TrailProblemKind.modified,
          seq: previous.seq,
          line: previous.line,
          detail: `its hash was recomputed: position ${seq} records another`,
        });
      }
    }
    chosenHash.set(seq, chosen.hash);
    previous = chosen;
  }

  // Expected positions: the range read, and every range a valid digest vouches for.
  const expected: [number, number][] = [];
  if (seqs.length > 0) expected.push([seqs[0] as number, seqs[seqs.length - 1] as number]);
  let validDigests = 0;
  let signedThroughSeq = 0;
  for (const { record, line } of digests) {
    const { first_seq: first, last_seq: last, last_hash: lastHash } = record;
    if (!digestSignatureValid(record, publicKey) || !isPosition(first) || !isPosition(last) || first > last) {
      problems.push({
        kind: TrailProblemKind.badDigest,
        line,
        ...(isPosition(last) ? { seq: last } : {}),
        detail: "its signature does not verify with this public key",
      });
      continue;
    }
    validDigests += 1;
    const lowest = options.clipToRead && seqs.length > 0 ? Math.max(first, seqs[0] as number) : first;
    if (lowest <= last) expected.push([lowest, last]);
    const atLast = chosenHash.get(last);
    if (atLast === undefined) continue; // reported as missing below
    if (atLast !== lastHash) {
      problems.push({
        kind: TrailProblemKind.modified,
        seq: last,
        line: positions.get(last)?.[0]?.line,
        detail: `the trail up to here differs from the signed digest on line ${line} (rewritten or renumbered)`,
      });
    } else signedThroughSeq = Math.max(signedThroughSeq, last);
  }
  problems.push(...missingRanges(expected, seqs));
  problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  return {
    ok: problems.length === 0,
    problems,
    events: seqs.length,
    ...(seqs.length > 0 ? { firstSeq: seqs[0], lastSeq: seqs[seqs.length - 1] } : {}),
    validDigests,
    signedThroughSeq,
    restarts,
  };
}

/** The positions of `expected` (ranges, possibly overlapping) absent from `present` (sorted). */
function missingRanges(expected: [number, number][], present: readonly number[]): TrailProblem[] {
  const merged: [number, number][] = [];
  for (const range of [...expected].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  const problems: TrailProblem[] = [];
  const report = (from: number, to: number) =>
    problems.push({
      kind: TrailProblemKind.missing,
      seq: from,
      toSeq: to,
      detail: from === to ? `position ${from} is missing` : `positions ${from}..${to} are missing`,
    });
  let index = 0;
  for (const [from, to] of merged) {
    let next = from;
    while (index < present.length && (present[index] as number) < from) index += 1;
    while (index < present.length && (present[index] as number) <= to) {
      const seq = present[index] as number;
      if (seq > next) report(next, seq - 1);
      next = seq + 1;
      index += 1;
    }
    if (next <= to) report(next, to);
  }
  return problems;
}
