/** What `verifyTrail` reports. */

export const TrailProblemKind = {
  /** A line whose content no longer matches its hash, or whose hash its successor does not record. */
  modified: "modified",
  /** Positions the chain or a signed digest says exist, absent from the export. */
  missing: "missing",
  /** A line with no place in the chain: no position, or a second, different event at a taken one. */
  inserted: "inserted",
  /** A line appearing after one of a later position (the export's order contradicts the chain's). */
  reordered: "reordered",
  /** A digest whose signature does not verify with the given public key. */
  badDigest: "bad-digest",
} as const;
export type TrailProblemKind = (typeof TrailProblemKind)[keyof typeof TrailProblemKind];

export interface TrailProblem {
  kind: TrailProblemKind;
  /** The position concerned (for `missing`, the first of the range); undefined when the line has none. */
  seq?: number;
  /** For `missing`: the last position of the range. */
  toSeq?: number;
  /** The 1-based line number in the export; undefined for `missing`. */
  line?: number;
  detail: string;
}

export interface TrailReport {
  ok: boolean;
  problems: TrailProblem[];
  /** Distinct chained events read. */
  events: number;
  /** Lowest and highest position read; undefined when there were none. */
  firstSeq?: number;
  lastSeq?: number;
  /** Digests whose signature verified. */
  validDigests: number;
  /** The highest position a valid digest vouches for and the trail matches there; 0 if none. */
  signedThroughSeq: number;
  /** Positions where the chain starts afresh (a shipper without its predecessor's checkpoint). */
  restarts: number[];
}

export interface VerifyOptions {
  /**
   * Whether the export must be in chain order (the file sink and the journal are). Loki returns lines in
   * time order, which differs for events relayed late: pass false for a Loki export.
   */
  ordered?: boolean;
  /**
   * For an export of a time range: positions of a digest before the first position read lie before the
   * range, so they are not reported missing (those after it still are).
   */
  clipToRead?: boolean;
}
