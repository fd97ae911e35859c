/**
 * A Loki stand-in for tests and local runs: `POST /loki/api/v1/push` (JSON, optionally gzip), a LogQL
 * subset on `GET /loki/api/v1/query_range`, and `GET /ready`, behaving as Loki does by default:
 *
 * - an entry more than one hour older than the newest entry of its stream is refused (out-of-order window);
 * - entries older than a week, or more than 10 minutes in the future, are refused;
 * - a non-numeric timestamp or a malformed body refuses the whole push (nothing stored);
 * - a stream without labels, or with an invalid label name, is refused, the push's other streams stored;
 * - an entry identical to a stored one (stream, timestamp and line) is kept once;
 * - when some entries are refused, the valid ones are stored all the same and the answer is 400 with a
 *   message listing the failures; otherwise 204.
 *
 * Failures on demand: `failNextPushes(n, status)` answers the next n pushes with 500 or 429 (nothing
 * stored); `pushDelayMs` slows every push answer down.
 */
import type { Server } from "bun";

export interface LokiEntry {
  /** The stream's labels. */
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, as sent. */
  timestamp: string;
  line: string;
}

export interface LokiReceiverOptions {
  /** "Now" for the age checks (default `Date.now`). */
  now?: () => number;
  /** Out-of-order window behind a stream's newest entry (Loki: max_chunk_age / 2 = 1 h). */
  outOfOrderWindowMs?: number;
  /** Entries older than this are refused (Loki: reject_old_samples_max_age = 168 h). */
  rejectOlderThanMs?: number;
  /** Entries further in the future are refused (Loki: creation_grace_period = 10 m). */
  futureGraceMs?: number;
  /** Longest line in bytes (Loki: max_line_size = 256 KB). */
  maxLineBytes?: number;
}

/** What a push request looked like, for tests of the client's headers. */
export interface LokiPushRecord {
  status: number;
  contentType: string;
  contentEncoding: string;
  tenant: string;
  authorization: string;
  entries: number;
}

interface StoredStream {
  labels: Record<string, string>;
  newestNs: bigint;
  newestLine: string;
  keys: Set<string>;
}

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const hourMs = 60 * 60 * 1000;

function streamKey(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(", ")}}`;
}

const nsToIso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const msToNs = (ms: number) => BigInt(Math.trunc(ms)) * 1_000_000n;

export class LokiReceiver {
  private server: Server<undefined> | undefined;
  private assignedPort = 0;
  private readonly stored: LokiEntry[] = [];
  private readonly streams = new Map<string, StoredStream>();
  private failures: { remaining: number; status: number; retryAfterSeconds?: number } = {
    remaining: 0,
    status: 500,
  };
  private readonly now: () => number;
  private readonly settings: Required<Omit<LokiReceiverOptions, "now">>;
  /** Every push request answered, in order. */
  readonly pushes: LokiPushRecord[] = [];
  /** Delay before each push is answered (and its entries stored), in ms. */
  pushDelayMs = 0;

  constructor(options: LokiReceiverOptions = {}) {
    this.now = options.now ?? Date.now;
    this.settings = {
      outOfOrderWindowMs: options.outOfOrderWindowMs ?? hourMs,
      rejectOlderThanMs: options.rejectOlderThanMs ?? 168 * hourMs,
      futureGraceMs: options.futureGraceMs ?? 10 * 60 * 1000,
      maxLineBytes: options.maxLineBytes ?? 256 * 1024,
    };
  }

  /** Listens on `port` (default: a free one; after a stop, the same one again). */
  async start(options: { port?: number } = {}): Promise<void> {
    if (this.server) return;
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: options.port ?? this.assignedPort,
      fetch: (request) => this.handle(request),
    });
    this.assignedPort = this.server.port ?? 0;
  }

  /** Stops listening and closes open connections; what it stored is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop(true);
  }

  /** Starts again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start({ port: this.assignedPort });
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get port(): number {
    return this.assignedPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.assignedPort}`;
  }

  /** Every entry stored, in the order it was stored. */
  entries(): readonly LokiEntry[] {
    return this.stored;
  }

  /** Answers the next `count` pushes with `status` (500 by default, or 429 with Retry-After). */
  failNextPushes(count: number, status = 500, retryAfterSeconds?: number): void {
    this.failures =
      retryAfterSeconds === undefined
        ? { remaining: count, status }
        : { remaining: count, status, retryAfterSeconds };
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/ready") return new Response("ready\n");
    if (request.method === "POST" && url.pathname === "/loki/api/v1/push") return this.push(request);
    if (request.method === "GET" && url.pathname === "/loki/api/v1/query_range") return this.queryRange(url);
    return new Response("404 page not found\n", { status: 404 });
  }

  private async push(request: Request): Promise<Response> {
    const record: LokiPushRecord = {
      status: 0,
      contentType: request.headers.get("content-type") ?? "",
      contentEncoding: request.headers.get("content-encoding") ?? "",
      tenant: request.headers.get("x-scope-orgid") ?? "",
      authorization: request.headers.get("authorization") ?? "",
      entries: 0,
    };
    const answer = (status: number, body = "", headers: Record<string, string> = {}) => {
      record.status = status;
      this.pushes.push(record);
      return new Response(status === 204 ? null : body, { status, headers });
    };
    if (this.pushDelayMs > 0) await Bun.sleep(this.pushDelayMs);
    const body = new Uint8Array(await request.arrayBuffer());
    if (this.failures.remaining > 0) {
      this.failures.remaining -= 1;
      const { status, retryAfterSeconds } = this.failures;
      const headers: Record<string, string> =
        retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) };
      return answer(status, status === 429 ? "Ingestion rate limit exceeded\n" : "internal error\n", headers);
    }
    if (!/^application\/json\b/i.test(record.contentType)) {
      return answer(415, `unsupported Content-Type: ${record.contentType || "(none)"}\n`);
    }
    let text: string;
    try {
      if (record.contentEncoding === "" || record.contentEncoding === "identity") {
        text = new TextDecoder().decode(body);
      } else if (record.contentEncoding === "gzip") {
        text = new TextDecoder().decode(Bun.gunzipSync(body));
      } else {
        return answer(415, `unsupported Content-Encoding: ${record.contentEncoding}\n`);
      }
    } catch {
      return answer(400, "failed to decompress the body\n");
    }
    const parsed = parsePushBody(text);
    if (typeof parsed === "string") return answer(400, `${parsed}\n`);
    record.entries = parsed.reduce((sum, stream) => sum + stream.values.length, 0);
    const failures = this.store(parsed);
    if (failures.length === 0) return answer(204);
    return answer(
      400,
      `${failures.join("\n")}\ntotal ignored: ${failures.length} out of ${record.entries}\n`,
    );
  }

  /** Stores what is valid; returns a message per refused entry or stream. */
  private store(streams: PushStream[]): string[] {
    const failures: string[] = [];
    const nowNs = msToNs(this.now());
    const oldestNs = nowNs - msToNs(this.settings.rejectOlderThanMs);
    const newestNs = nowNs + msToNs(this.settings.futureGraceMs);
    for (const { labels, values } of streams) {
      const names = Object.keys(labels);
      if (names.length === 0) {
        failures.push("error at least one label pair is required per stream");
        continue;
      }
      const badName = names.find((name) => !labelNamePattern.test(name));
      if (badName !== undefined) {
        failures.push(
          `error parsing labels '${streamKey(labels)}' with error: invalid label name "${badName}"`,
        );
        continue;
      }
      const key = streamKey(labels);
      for (const [timestamp, line] of values) {
        const ns = BigInt(timestamp);
        if (Buffer.byteLength(line) > this.settings.maxLineBytes) {
          failures.push(`Max entry size '${this.settings.maxLineBytes}' bytes exceeded for stream '${key}'`);
        } else if (ns < oldestNs) {
          failures.push(
            `entry for stream '${key}' has timestamp too old: ${nsToIso(ns)}, oldest acceptable timestamp is: ${nsToIso(oldestNs)}`,
          );
        } else if (ns > newestNs) {
          failures.push(`entry for stream '${key}' has timestamp too new: ${nsToIso(ns)}`);
        } else {
          const failure = this.append(key, labels, timestamp, ns, line);
          if (failure) failures.push(failure);
        }
      }
    }
    return failures;
  }

  private append(
    key: string,
    labels: Record<string, string>,
    timestamp: string,
    ns: bigint,
    line: string,
  ): string | undefined {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = { labels: { ...labels }, newestNs: ns, newestLine: line, keys: new Set() };
      this.streams.set(key, stream);
    }
    if (ns === stream.newestNs && line === stream.newestLine && stream.keys.size > 0) return undefined;
    const cutoffNs = stream.newestNs - msToNs(this.settings.outOfOrderWindowMs);
    if (ns < cutoffNs) {
      return `entry with timestamp ${nsToIso(ns)} ignored, reason: 'entry too far behind, entry timestamp is: ${nsToIso(ns)}, oldest acceptable timestamp is: ${nsToIso(cutoffNs)}' for stream: ${key}`;
    }
    const entryKey = `${ns}\n${line}`;
    if (stream.keys.has(entryKey)) return undefined;
    stream.keys.add(entryKey);
    if (ns > stream.newestNs || stream.keys.size === 1) {
      stream.newestNs = ns;
      stream.newestLine = line;
    }
    this.stored.push({ labels: stream.labels, timestamp, line });
    return undefined;
  }

  private queryRange(url: URL): Response {
    const bad = (message: string) => new Response(`${message}\n`, { status: 400 });
    const nowNs = msToNs(this.now());
    const query = url.searchParams.get("query");
    if (!query) return bad("query is required");
    const parsedQuery = parseLogql(query);
    if (typeof parsedQuery === "string") return bad(`parse error: ${parsedQuery}`);
    const startNs = nsParam(url.searchParams.get("start"), nowNs - msToNs(hourMs));
    const endNs = nsParam(url.searchParams.get("end"), nowNs);
    if (startNs === undefined || endNs === undefined) return bad("invalid start or end: want nanoseconds");
    const limitText = url.searchParams.get("limit") ?? "100";
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit <= 0) return bad("limit must be a positive integer");
    const direction = (url.searchParams.get("direction") ?? "backward").toLowerCase();
    if (direction !== "backward" && direction !== "forward")
      return bad("direction must be forward or backward");

    const matches: { labels: Record<string, string>; ns: bigint; entry: LokiEntry }[] = [];
    for (const entry of this.stored) {
      const ns = BigInt(entry.timestamp);
      if (ns < startNs || ns >= endNs) continue;
      if (!parsedQuery.selector.every(([name, value]) => entry.labels[name] === value)) continue;
      const labels = parsedQuery.json ? withExtractedLabels(entry.labels, entry.line) : { ...entry.labels };
      if (!parsedQuery.filters.every(([name, value]) => (labels[name] ?? "") === value)) continue;
      matches.push({ labels, ns, entry });
    }
    matches.sort((a, b) => (a.ns === b.ns ? 0 : a.ns < b.ns === (direction === "forward") ? -1 : 1));
    const result = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
    for (const match of matches.slice(0, limit)) {
      const key = streamKey(match.labels);
      const stream = result.get(key) ?? { stream: match.labels, values: [] };
      stream.values.push([match.entry.timestamp, match.entry.line]);
      result.set(key, stream);
    }
    return Response.json({
      status: "success",
      data: { resultType: "streams", result: [...result.values()], stats: {} },
    });
  }
}

/** Starts a receiver (on `port`, or a free one). */
export async function startLokiReceiver(
  options: LokiReceiverOptions & { port?: number } = {},
): Promise<LokiReceiver> {
  const receiver = new LokiReceiver(options);
  await receiver.start(options.port === undefined ? {} : { port: options.port });
  return receiver;
}

interface PushStream {
  labels: Record<string, string>;
  values: [string, string][];
}

/** The push body's streams, or the message of a 400 that refuses the whole request. */
function parsePushBody(text: string): PushStream[] | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "failed to parse the body as JSON";
  }
  const streams = (body as { streams?: unknown })?.streams;
  if (!Array.isArray(streams)) return 'the body must be an object with a "streams" array';
  const result: PushStream[] = [];
  for (const stream of streams) {
    const labels = (stream as { stream?: unknown })?.stream ?? {};
    const values = (stream as { values?: unknown })?.values ?? [];
    if (typeof labels !== "object" || labels === null || Array.isArray(labels))
      return "stream labels must be an object";
    if (Object.values(labels).some((value) => typeof value !== "string"))
      return "label values must be strings";
    if (!Array.isArray(values)) return "values must be an array";
    const entries: [string, string][] = [];
    for (const value of values) {
      if (!Array.isArray(value) || value.length < 2 || value.length > 3)
        return "each value must be [timestamp, line]";
      const [timestamp, line] = value as unknown[];
      if (typeof timestamp !== "string" || !/^\d+$/.test(timestamp)) {
        return `invalid timestamp ${JSON.stringify(timestamp)}: want nanoseconds since the epoch as a string`;
      }
      if (typeof line !== "string") return "each line must be a string";
      entries.push([timestamp, line]);
    }
    result.push({ labels: labels as Record<string, string>, values: entries });
  }
  return result;
}

function nsParam(text: string | null, fallback: bigint): bigint | undefined {
  if (text === null || text === "") return fallback;
  return /^\d+$/.test(text) ? BigInt(text) : undefined;
}

interface ParsedLogql {
  selector: [string, string][];
  json: boolean;
  filters: [string, string][];
}

/**
 * The LogQL subset the audit query backend writes: `{a="b", ...}` with `=` matchers, then stages
 * `| json` and `| key="value"`. Strings are double-quoted (JSON escapes) or back-quoted.
 */
export function parseLogql(query: string): ParsedLogql | string {
  let position = 0;
  const skipSpace = () => {
    while (/\s/.test(query[position] ?? "")) position++;
  };
  const expect = (text: string) => {
    skipSpace();
    if (!query.startsWith(text, position)) return false;
    position += text.length;
    return true;
  };
  const identifier = () => {
    skipSpace();
    const match = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(query.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    return match[0];
  };
  const string = (): string | undefined => {
    skipSpace();
    if (query[position] === "`") {
      const end = query.indexOf("`", position + 1);
      if (end < 0) return undefined;
      const value = query.slice(position + 1, end);
      position = end + 1;
      return value;
    }
    const match = /^"(?:[^"\\]|\\.)*"/.exec(query.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    try {
      return JSON.parse(match[0]) as string;
    } catch {
      return undefined;
    }
  };
  const pair = (): [string, string] | string => {
    const name = identifier();
    if (name === undefined) return `expected a label name at ${position}`;
    if (!expect("=")) return `only = matchers are supported (at ${position})`;
    if (query[position] === "~" || query[position] === "=")
      return `only = matchers are supported (at ${position})`;
    const value = string();
    if (value === undefined) return `expected a string at ${position}`;
    return [name, value];
  };

  if (!expect("{")) return "a query starts with a stream selector {...}";
  const selector: [string, string][] = [];
  if (!expect("}")) {
    for (;;) {
      const matcher = pair();
      if (typeof matcher === "string") return matcher;
      selector.push(matcher);
      if (expect("}")) break;
      if (!expect(",")) return `expected , or } at ${position}`;
    }
  }
  if (selector.length === 0) return "the stream selector needs at least one matcher";
  let json = false;
  const filters: [string, string][] = [];
  for (;;) {
    skipSpace();
    if (position >= query.length) break;
    if (!expect("|")) return `expected | at ${position}`;
    skipSpace();
    if (/^json\b/.test(query.slice(position))) {
      position += 4;
      json = true;
      continue;
    }
    const filter = pair();
    if (typeof filter === "string") return filter;
    filters.push(filter);
  }
  return { selector, json, filters };
}

/** Loki's `| json`: a flat line's fields become labels (nested keys joined with `_`). */
function withExtractedLabels(labels: Record<string, string>, line: string): Record<string, string> {
  const result = { ...labels };
  let fields: unknown;
  try {
    fields = JSON.parse(line);
  } catch {
    result.__error__ = "JSONParserErr";
    return result;
  }
  const visit = (value: unknown, prefix: string) => {
    if (value === null || Array.isArray(value)) return;
    if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        visit(
          inner,
          prefix === ""
            ? key.replace(/[^a-zA-Z0-9_]/g, "_")
            : `${prefix}_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`,
        );
      }
      return;
    }
    const name = prefix in labels ? `${prefix}_extracted` : prefix;
    result[name] = typeof value === "string" ? value : JSON.stringify(value);
  };
  if (typeof fields === "object" && fields !== null && !Array.isArray(fields)) visit(fields, "");
  else result.__error__ = "JSONParserErr";
  return result;
}
