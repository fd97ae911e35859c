/**
 * A Loki stand-in for tests and local runs: `POST /loki/api/v1/push` (JSON, optionally gzip), a LogQL
 * subset on `GET /loki/api/v1/query_range` (`loki-logql.ts`), and `GET /ready`. No Loki runs here, so
 * this is the only Loki the tests know: it follows Loki's source, v2.9.10 and v3.5.0 (`version`), with
 * Loki's default limits (`loki-limits.ts`). A push goes through the same steps as in Loki:
 *
 * 1. The body is parsed; a malformed body or a non-numeric timestamp refuses the whole push (400).
 * 2. Distributor (`pkg/distributor/distributor.go`, `validator.go`): a stream without labels or with an
 *    invalid label name is dropped; an entry older than a week (`reject_old_samples_max_age`), more than
 *    10 minutes in the future (`creation_grace_period`) or with a line over 256 KB (`max_line_size`) is
 *    dropped; each is a validation error. In 3.x mode a stream without `service_name` gets one
 *    (`pkg/loghttp/push/push.go`, `discover_service_name`): `service="x"` adds `service_name="x"`.
 * 3. The tenant's rate limit (4 MB/s, burst 6 MB) is taken for the push's valid line bytes: refused, the
 *    whole push is answered 429 and nothing is stored; a push over the burst never passes.
 * 4. The push is forwarded to the ingester as one gRPC message: over 4 MiB it fails with 500
 *    (ResourceExhausted) and nothing is stored.
 * 5. Ingester (`pkg/ingester/instance.go`, `stream.go`): stream by stream, an entry identical to the
 *    stream's last one is skipped, an entry over the stream's rate limit (3 MB/s, burst 15 MB) is refused
 *    (429), an entry more than one hour older than the stream's newest (unordered writes: max_chunk_age / 2)
 *    is refused (400, "entry too far behind"), the rest is stored. **Only the last stream's error is
 *    returned**: `instance.Push` overwrites its error with each stream's, so when an earlier stream
 *    refused entries and the last one did not, the push is answered 204 all the same.
 * 6. Otherwise the validation errors of step 2 make a 400; no error at all is a 204.
 *
 * An entry identical to a stored one (stream, timestamp and line) is kept once, as Loki's queries
 * de-duplicate such entries across chunks.
 *
 * Failures on demand: `failNextPushes(n, status)` answers the next n pushes with 500 or 429 (nothing
 * stored); `loseNextAnswers(n)` stores the next n pushes as usual but answers 504, as a proxy whose
 * upstream answered too late; `pushDelayMs` slows every push answer down.
 */
import type { Server } from "bun";
import { type LokiLimits, lokiDefaultLimits, TokenBucket, withServiceName } from "./loki-limits.ts";
import { evaluatePipeline, parseLogql } from "./loki-logql.ts";

export { parseLogql } from "./loki-logql.ts";

/** The Loki releases the stand-in can behave as. */
export const LokiVersion = { v2_9: "2.9", v3_5: "3.5" } as const;
export type LokiVersion = (typeof LokiVersion)[keyof typeof LokiVersion];

export interface LokiEntry {
  /** The stream's labels, as Loki stores them (in 3.x mode with `service_name` added). */
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, as sent. */
  timestamp: string;
  line: string;
}

export interface LokiReceiverOptions {
  /** The release to behave as (default 3.5, as in docker-compose.yml). */
  version?: LokiVersion;
  /** "Now" for the age checks and the rate limiters (default `Date.now`). */
  now?: () => number;
  /** Out-of-order window behind a stream's newest entry (Loki: max_chunk_age / 2 = 1 h). */
  outOfOrderWindowMs?: number;
  /** Entries older than this are refused (Loki: reject_old_samples_max_age = 168 h). */
  rejectOlderThanMs?: number;
  /** Entries further in the future are refused (Loki: creation_grace_period = 10 m). */
  futureGraceMs?: number;
  /** Longest line in bytes (Loki: max_line_size = 256 KB). */
  maxLineBytes?: number;
  /** Rate and size limits (Loki's defaults unless given; `false` turns them all off). */
  limits?: Partial<LokiLimits> | false;
}

/** What a push request looked like, for tests of the client's headers. */
export interface LokiPushRecord {
  status: number;
  contentType: string;
  contentEncoding: string;
  tenant: string;
  authorization: string;
  entries: number;
  /** Streams in the push. */
  streams: number;
  /** Line bytes in the push. */
  bytes: number;
  /** The answer's body (empty for 204). */
  message: string;
}

interface StoredStream {
  labels: Record<string, string>;
  newestNs: bigint;
  lastNs: bigint;
  lastLine: string;
  keys: Set<string>;
  limiter: TokenBucket | undefined;
}

/** An error as Loki's ingester returns it for one stream. */
interface StreamError {
  status: number;
  message: string;
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
const lineBytes = (line: string) => Buffer.byteLength(line);

export class LokiReceiver {
  private server: Server<undefined> | undefined;
  private assignedPort = 0;
  private readonly stored: LokiEntry[] = [];
  private readonly streams = new Map<string, StoredStream>();
  private readonly tenantLimiters = new Map<string, TokenBucket>();
  private failures: { remaining: number; status: number; retryAfterSeconds?: number } = {
    remaining: 0,
    status: 500,
  };
  private readonly now: () => number;
  private readonly settings: Required<Omit<LokiReceiverOptions, "now" | "limits" | "version">>;
  private readonly limits: LokiLimits | undefined;
  readonly version: LokiVersion;
  /** Every push request answered, in order. */
  readonly pushes: LokiPushRecord[] = [];
  /** Delay before each push is answered (and its entries stored), in ms. */
  pushDelayMs = 0;
  /** Query requests answered. */
  queries = 0;
  private answersToLose = 0;

  constructor(options: LokiReceiverOptions = {}) {
    this.now = options.now ?? Date.now;
    this.version = options.version ?? LokiVersion.v3_5;
    this.settings = {
      outOfOrderWindowMs: options.outOfOrderWindowMs ?? hourMs,
      rejectOlderThanMs: options.rejectOlderThanMs ?? 168 * hourMs,
      futureGraceMs: options.futureGraceMs ?? 10 * 60 * 1000,
      maxLineBytes: options.maxLineBytes ?? 256 * 1024,
    };
    this.limits = options.limits === false ? undefined : { ...lokiDefaultLimits, ...options.limits };
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

  /** Stores the next `count` pushes but answers them 504 (the client cannot know they were stored). */
  loseNextAnswers(count: number): void {
    this.answersToLose = count;
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
      streams: 0,
      bytes: 0,
      message: "",
    };
    const answer = (handled: number, handledBody = "", headers: Record<string, string> = {}) => {
      const lost = this.answersToLose > 0 && handled === 204;
      if (lost) this.answersToLose -= 1;
      const status = lost ? 504 : handled;
      const body = lost ? "upstream request timeout\n" : handledBody;
      record.status = status;
      record.message = status === 204 ? "" : body;
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
    record.streams = parsed.length;
    record.entries = parsed.reduce((sum, stream) => sum + stream.values.length, 0);
    record.bytes = parsed.reduce(
      (sum, stream) => sum + stream.values.reduce((inner, [, line]) => inner + lineBytes(line), 0),
      0,
    );
    const tenant = record.tenant || "fake";

    const { valid, validationErrors } = this.validate(parsed);
    const validationError =
      validationErrors.length > 0
        ? `${validationErrors.join("\n")}\ntotal ignored: ${validationErrors.length} out of ${record.entries}\n`
        : undefined;
    const validBytes = valid.reduce(
      (sum, stream) => sum + stream.values.reduce((inner, [, line]) => inner + lineBytes(line), 0),
      0,
    );
    if (valid.length === 0) return validationError ? answer(400, validationError) : answer(204);
    if (this.limits && !this.tenantLimiter(tenant).allow(validBytes)) {
      const lines = valid.reduce((sum, stream) => sum + stream.values.length, 0);
      return answer(
        429,
        `Ingestion rate limit exceeded for user ${tenant} (limit: ${this.limits.ingestionRateBytes} bytes/sec) while attempting to ingest '${lines}' lines totaling '${validBytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n`,
      );
    }
    const forwardedBytes = valid.reduce(
      (sum, stream) =>
        sum +
        streamKey(stream.labels).length +
        stream.values.reduce((inner, [, line]) => inner + lineBytes(line) + 16, 0),
      0,
    );
    if (this.limits && forwardedBytes > this.limits.maxForwardedBytes) {
      return answer(
        500,
        `rpc error: code = ResourceExhausted desc = grpc: received message larger than max (${forwardedBytes} vs. ${this.limits.maxForwardedBytes})\n`,
      );
    }
    // instance.Push: each stream's outcome overwrites the previous one's; the last stream's error wins.
    let appendError: StreamError | undefined;
    for (const stream of valid) appendError = this.pushStream(tenant, stream);
    if (appendError) return answer(appendError.status, `${appendError.message}\n`);
    return validationError ? answer(400, validationError) : answer(204);
  }

  private tenantLimiter(tenant: string): TokenBucket {
    let limiter = this.tenantLimiters.get(tenant);
    if (!limiter && this.limits) {
      limiter = new TokenBucket(this.limits.ingestionRateBytes, this.limits.ingestionBurstBytes, this.now);
      this.tenantLimiters.set(tenant, limiter);
    }
    return limiter as TokenBucket;
  }

  /** The distributor's checks: the streams and entries that pass, and a message per one refused. */
  private validate(streams: PushStream[]): { valid: PushStream[]; validationErrors: string[] } {
    const validationErrors: string[] = [];
    const valid: PushStream[] = [];
    const nowNs = msToNs(this.now());
    const oldestNs = nowNs - msToNs(this.settings.rejectOlderThanMs);
    const newestNs = nowNs + msToNs(this.settings.futureGraceMs);
    for (const { labels: sent, values } of streams) {
      const names = Object.keys(sent);
      if (names.length === 0) {
        validationErrors.push("error at least one label pair is required per stream");
        continue;
      }
      const badName = names.find((name) => !labelNamePattern.test(name));
      if (badName !== undefined) {
        validationErrors.push(
          `error parsing labels '${streamKey(sent)}' with error: invalid label name "${badName}"`,
        );
        continue;
      }
      const labels = this.version === LokiVersion.v3_5 ? withServiceName(sent) : sent;
      const key = streamKey(labels);
      const kept: [string, string][] = [];
      for (const [timestamp, line] of values) {
        const ns = BigInt(timestamp);
        const size = lineBytes(line);
        if (size > this.settings.maxLineBytes) {
          validationErrors.push(
            `Max entry size '${this.settings.maxLineBytes}' bytes exceeded for stream '${key}' while adding an entry with length '${size}' bytes`,
          );
        } else if (ns < oldestNs) {
          validationErrors.push(
            `entry for stream '${key}' has timestamp too old: ${nsToIso(ns)}, oldest acceptable timestamp is: ${nsToIso(oldestNs)}`,
          );
        } else if (ns > newestNs) {
          validationErrors.push(`entry for stream '${key}' has timestamp too new: ${nsToIso(ns)}`);
        } else kept.push([timestamp, line]);
      }
      if (kept.length > 0) valid.push({ labels, values: kept });
    }
    return { valid, validationErrors };
  }

  /** The ingester's `stream.Push` for one stream: stores what it may, returns its error if any. */
  private pushStream(tenant: string, { labels, values }: PushStream): StreamError | undefined {
    const key = streamKey(labels);
    let stream = this.streams.get(key);
    if (!stream) {
      stream = {
        labels: { ...labels },
        newestNs: -1n,
        lastNs: -1n,
        lastLine: "",
        keys: new Set(),
        limiter: this.limits
          ? new TokenBucket(this.limits.perStreamRateBytes, this.limits.perStreamBurstBytes, this.now)
          : undefined,
      };
      this.streams.set(key, stream);
    }
    const failed: { ns: bigint; reason: string; rateLimited: boolean }[] = [];
    for (const [timestamp, line] of values) {
      const ns = BigInt(timestamp);
      if (ns === stream.lastNs && line === stream.lastLine) continue;
      const size = lineBytes(line);
      if (stream.limiter && !stream.limiter.allow(size)) {
        failed.push({
          ns,
          rateLimited: true,
          reason: `Per stream rate limit exceeded (limit: ${this.limits?.perStreamRateBytes} bytes/sec) while attempting to ingest for stream '${key}' totaling ${size} bytes, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased`,
        });
        continue;
      }
      const cutoffNs = stream.newestNs - msToNs(this.settings.outOfOrderWindowMs);
      if (stream.newestNs >= 0n && ns < cutoffNs) {
        failed.push({
          ns,
          rateLimited: false,
          reason: `entry too far behind, entry timestamp is: ${nsToIso(ns)}, oldest acceptable timestamp is: ${nsToIso(cutoffNs)}`,
        });
        continue;
      }
      stream.lastNs = ns;
      stream.lastLine = line;
      if (ns > stream.newestNs) stream.newestNs = ns;
      const entryKey = `${ns}\n${line}`;
      if (stream.keys.has(entryKey)) continue;
      stream.keys.add(entryKey);
      this.stored.push({ labels: stream.labels, timestamp, line });
    }
    const last = failed.at(-1);
    if (!last) return undefined;
    const listed = failed
      .map((failure) => `entry with timestamp ${nsToIso(failure.ns)} ignored, reason: '${failure.reason}',`)
      .join("\n");
    return {
      status: last.rateLimited ? 429 : 400,
      message: `${listed}\nuser '${tenant}', total ignored: ${failed.length} out of ${values.length} for stream: ${key}`,
    };
  }

  private queryRange(url: URL): Response {
    this.queries += 1;
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
      const labels = evaluatePipeline(parsedQuery, entry.labels, entry.line);
      if (labels) matches.push({ labels, ns, entry });
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
