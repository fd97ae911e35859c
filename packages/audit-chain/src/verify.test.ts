import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chainedLine, chainedTrail, digestLine, eventFields, type FixtureLine } from "./trail-fixture.ts";
import { verifyTrail } from "./verify.ts";
import { TrailProblemKind } from "./verify-types.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");

/** 20 events with a digest after 10 and after 20. */
function signedTrail(): string[] {
  const events = chainedTrail(20);
  const at = (seq: number) => events[seq - 1] as FixtureLine;
  return [
    ...events.slice(0, 10).map((line) => line.text),
    digestLine(1, 10, at(10).hash, privateKey),
    ...events.slice(10).map((line) => line.text),
    digestLine(11, 20, at(20).hash, privateKey),
  ];
}

const kinds = (lines: string[], options = {}) =>
  verifyTrail(lines, publicKey, options).problems.map(({ kind, seq, toSeq }) => ({ kind, seq, toSeq }));

/** Replaces a field of the line at `index` without touching its link. */
function edit(lines: string[], index: number, change: Record<string, unknown>): string[] {
  const copy = [...lines];
  copy[index] = JSON.stringify({ ...JSON.parse(copy[index] as string), ...change });
  return copy;
}

describe("verifying an exported audit trail", () => {
  it("accepts a clean trail, its digests, and lines a retried write appended twice", () => {
    const lines = signedTrail();
    const report = verifyTrail([...lines.slice(0, 5), ...lines.slice(2, 5), ...lines.slice(5)], publicKey);
    expect(report).toMatchObject({ ok: true, problems: [], events: 20, firstSeq: 1, lastSeq: 20 });
    expect(report).toMatchObject({ validDigests: 2, signedThroughSeq: 20, restarts: [] });
  });

  it("locates a modified event, whether or not its hash was recomputed", () => {
    const lines = signedTrail();
    expect(kinds(edit(lines, 3, { service_name: "attacker" }))).toEqual([
      { kind: TrailProblemKind.modified, seq: 4, toSeq: undefined },
    ]);
    // Hash recomputed: the event is self-consistent, but its successor recorded the original hash.
    const forged = chainedLine(
      { ...eventFields(4), success: false },
      4,
      chainedTrail(3).at(-1)?.hash as string,
    );
    const rewritten = [...lines];
    rewritten[3] = forged.text;
    expect(kinds(rewritten)).toEqual([{ kind: TrailProblemKind.modified, seq: 4, toSeq: undefined }]);
  });

  it("locates missing events, inside the trail and at its signed end", () => {
    const lines = signedTrail();
    expect(kinds([...lines.slice(0, 6), ...lines.slice(8)])).toEqual([
      { kind: TrailProblemKind.missing, seq: 7, toSeq: 8 },
    ]);
    // The last three events cut off: the final digest still says they existed.
    expect(kinds([...lines.slice(0, 18), lines[21] as string])).toEqual([
      { kind: TrailProblemKind.missing, seq: 18, toSeq: 20 },
    ]);
  });

  it("locates inserted events: one without a position, and one forged into a taken position", () => {
    const lines = signedTrail();
    const unchained = JSON.stringify(eventFields(99));
    expect(verifyTrail([...lines.slice(0, 4), unchained, ...lines.slice(4)], publicKey).problems).toEqual([
      expect.objectContaining({ kind: TrailProblemKind.inserted, line: 5 }),
    ]);
    // Linked correctly after position 4, but position 6 records the genuine 5.
    const forged = chainedLine(eventFields(500), 5, chainedTrail(4).at(-1)?.hash as string);
    expect(kinds([...lines.slice(0, 4), forged.text, ...lines.slice(4)])).toEqual([
      { kind: TrailProblemKind.inserted, seq: 5, toSeq: undefined },
    ]);
  });

  it("catches an insertion that renumbered and rechained everything after it: the signed digest disagrees", () => {
    const genuine = chainedTrail(10);
    const forged = [chainedLine(eventFields(777), 6, genuine[4]?.hash as string)];
    for (let seq = 7; seq <= 11; seq++) {
      forged.push(chainedLine(eventFields(seq - 1), seq, forged.at(-1)?.hash as string));
    }
    const lines = [
      ...genuine.slice(0, 5).map((line) => line.text),
      ...forged.map((line) => line.text),
      digestLine(1, 10, genuine[9]?.hash as string, privateKey),
    ];
    expect(kinds(lines)).toEqual([{ kind: TrailProblemKind.modified, seq: 10, toSeq: undefined }]);
  });

  it("locates reordered events in a file export, and accepts a Loki export in time order when told", () => {
    const lines = signedTrail();
    const swapped = [...lines];
    [swapped[2], swapped[6]] = [swapped[6] as string, swapped[2] as string];
    expect(kinds(swapped)).toEqual(
      [
        { kind: TrailProblemKind.reordered, seq: 4, toSeq: undefined },
        { kind: TrailProblemKind.reordered, seq: 5, toSeq: undefined },
        { kind: TrailProblemKind.reordered, seq: 6, toSeq: undefined },
        { kind: TrailProblemKind.reordered, seq: 3, toSeq: undefined },
      ].sort((a, b) => a.seq - b.seq),
    );
    expect(verifyTrail(swapped, publicKey, { ordered: false }).ok).toBe(true);
  });

  it("rejects a forged digest and one whose signed fields were changed", () => {
    const lines = signedTrail();
    const hash20 = chainedTrail(20).at(-1)?.hash as string;
    const forged = [...lines.slice(0, -1), digestLine(11, 20, hash20, other.privateKey)];
    expect(verifyTrail(forged, publicKey).problems).toEqual([
      expect.objectContaining({ kind: TrailProblemKind.badDigest, seq: 20, line: 22 }),
    ]);
    expect(kinds(edit(lines, 21, { last_seq: 19 }))).toEqual([
      { kind: TrailProblemKind.badDigest, seq: 19, toSeq: undefined },
    ]);
    expect(verifyTrail(forged, publicKey).signedThroughSeq).toBe(10);
  });

  it("reports a line that is not JSON as modified", () => {
    const lines = signedTrail();
    lines[2] = `${lines[2]?.slice(0, 40)}`;
    expect(verifyTrail(lines, publicKey).problems).toEqual([
      expect.objectContaining({ kind: TrailProblemKind.modified, line: 3 }),
      expect.objectContaining({ kind: TrailProblemKind.missing, seq: 3, toSeq: 3 }),
    ]);
  });

  it("verifies 100,000 events (the time is printed, for the README)", () => {
    const events = chainedTrail(100_000);
    const lines = events.map((line) => line.text);
    lines.push(digestLine(1, 100_000, events.at(-1)?.hash as string, privateKey));
    const started = performance.now();
    const report = verifyTrail(lines, publicKey);
    const elapsedMs = performance.now() - started;
    console.info(`verified 100,000 events in ${Math.round(elapsedMs)} ms`);
    expect(report).toMatchObject({ ok: true, events: 100_000, signedThroughSeq: 100_000 });
  });
});

describe("verifying a time range of a trail", () => {
  it("does not count the positions of a digest before the range as missing, only those after its start", () => {
    const events = chainedTrail(20);
    const digest = digestLine(1, 20, events[19]?.hash as string, privateKey);
    const range = [...events.slice(10, 15), ...events.slice(16)].map((line) => line.text);
    expect(kinds([...range, digest], { clipToRead: true })).toEqual([
      { kind: TrailProblemKind.missing, seq: 16, toSeq: 16 },
    ]);
    expect(kinds([...range, digest])[0]).toEqual({ kind: TrailProblemKind.missing, seq: 1, toSeq: 10 });
  });
});
