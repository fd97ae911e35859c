import { afterEach, describe, expect, it } from "vitest";
import { type LokiReceiver, LokiVersion, parseLogql, startLokiReceiver } from "./loki-receiver.ts";

const now = Date.UTC(2025, 0, 17, 12, 0, 0);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const minute = 60_000;

let loki: LokiReceiver;
afterEach(async () => {
  await loki?.stop();
});

async function start(version: LokiVersion = LokiVersion.v3_5) {
  loki = await startLokiReceiver({ now: () => now, version });
  return loki;
}

function push(body: unknown, headers: Record<string, string> = {}, raw?: Uint8Array | string) {
  return fetch(`${loki.url}/loki/api/v1/push`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: raw ?? JSON.stringify(body),
  });
}

const stream = (labels: Record<string, string>, ...values: [string, string][]) => ({
  stream: labels,
  values,
});
const app = { service: "secrets-service", event: "secret.get", env: "test" };

async function query(params: Record<string, string>) {
  const url = new URL(`${loki.url}/loki/api/v1/query_range`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return fetch(url);
}

describe("Loki stand-in: push", () => {
  it("stores JSON pushes and answers 204, and is ready", async () => {
    await start();
    expect((await fetch(`${loki.url}/ready`)).status).toBe(200);
    const response = await push({ streams: [stream(app, [ns(now), "a"], [ns(now + 1), "b"])] });
    expect(response.status).toBe(204);
    expect(loki.entries().map((e) => e.line)).toEqual(["a", "b"]);
    // Loki 3 adds service_name from the service label (discover_service_name).
    expect(loki.entries()[0]).toEqual({
      labels: { ...app, service_name: "secrets-service" },
      timestamp: ns(now),
      line: "a",
    });
  });

  it("accepts gzip bodies and refuses other encodings and content types with 415", async () => {
    await start();
    const body = JSON.stringify({ streams: [stream(app, [ns(now), "zipped"])] });
    expect((await push(undefined, { "Content-Encoding": "gzip" }, Bun.gzipSync(body))).status).toBe(204);
    expect((await push(undefined, { "Content-Encoding": "snappy" }, body)).status).toBe(415);
    expect((await push(undefined, { "Content-Type": "application/x-protobuf" }, body)).status).toBe(415);
    expect(loki.entries().map((e) => e.line)).toEqual(["zipped"]);
    expect(loki.pushes.map((p) => p.status)).toEqual([204, 415, 415]);
  });

  it("keeps one copy of an identical entry, and both of two lines at one timestamp", async () => {
    await start();
    await push({ streams: [stream(app, [ns(now), "x"], [ns(now), "y"])] });
    expect((await push({ streams: [stream(app, [ns(now), "x"], [ns(now), "y"])] })).status).toBe(204);
    expect(loki.entries().map((e) => e.line)).toEqual(["x", "y"]);
  });

  it("accepts out-of-order entries within an hour of the stream's newest and refuses older ones", async () => {
    await start();
    await push({ streams: [stream(app, [ns(now), "newest"])] });
    expect((await push({ streams: [stream(app, [ns(now - 59 * minute), "late"])] })).status).toBe(204);
    const refused = await push({ streams: [stream(app, [ns(now - 61 * minute), "too late"])] });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/entry too far behind/);
    // Another stream has its own window.
    const other = { ...app, event: "token.register" };
    expect((await push({ streams: [stream(other, [ns(now - 61 * minute), "own stream"])] })).status).toBe(
      204,
    );
    expect(loki.entries().map((e) => e.line)).toEqual(["newest", "late", "own stream"]);
  });

  it("refuses entries older than a week or too far in the future, storing the rest of the push", async () => {
    await start();
    const week = 7 * 24 * 60 * minute;
    const response = await push({
      streams: [
        stream(app, [ns(now - week - minute), "ancient"], [ns(now), "fine"]),
        stream({ ...app, event: "x" }, [ns(now + 11 * minute), "future"]),
      ],
    });
    expect(response.status).toBe(400);
    const message = await response.text();
    expect(message).toMatch(/timestamp too old/);
    expect(message).toMatch(/timestamp too new/);
    expect(message).toMatch(/total ignored: 2 out of 3/);
    expect(loki.entries().map((e) => e.line)).toEqual(["fine"]);
  });

  it("refuses a push with a non-numeric timestamp as a whole", async () => {
    await start();
    const response = await push({
      streams: [stream(app, [ns(now), "fine"], ["2025-01-17T12:00:00Z", "iso"])],
    });
    expect(response.status).toBe(400);
    expect(loki.entries()).toEqual([]);
  });

  it("refuses streams without labels or with invalid label names, storing the other streams", async () => {
    await start();
    const response = await push({
      streams: [
        stream({}, [ns(now), "no labels"]),
        stream({ "bad-name": "x" }, [ns(now), "bad label"]),
        stream(app, [ns(now), "good"]),
      ],
    });
    expect(response.status).toBe(400);
    const message = await response.text();
    expect(message).toMatch(/at least one label pair/);
    expect(message).toMatch(/invalid label name "bad-name"/);
    expect(loki.entries().map((e) => e.line)).toEqual(["good"]);
    expect((await push({ nope: [] })).status).toBe(400);
  });

  it("fails the next pushes on demand, storing nothing meanwhile", async () => {
    await start();
    loki.failNextPushes(2, 500);
    const body = { streams: [stream(app, [ns(now), "a"])] };
    expect((await push(body)).status).toBe(500);
    expect((await push(body)).status).toBe(500);
    expect((await push(body)).status).toBe(204);
    loki.failNextPushes(1, 429, 3);
    const limited = await push(body);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "3"]);
    expect(loki.entries().map((e) => e.line)).toEqual(["a"]);
  });

  it("restarts on the same port and keeps what it stored", async () => {
    await start();
    const port = loki.port;
    await push({ streams: [stream(app, [ns(now), "kept"])] });
    await loki.stop();
    await expect(fetch(`${loki.url}/ready`)).rejects.toThrow();
    await loki.restart();
    expect(loki.port).toBe(port);
    expect((await fetch(`${loki.url}/ready`)).status).toBe(200);
    expect(loki.entries().map((e) => e.line)).toEqual(["kept"]);
  });
});

describe("Loki stand-in: query_range", () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify(fields);

  async function filled(version: LokiVersion = LokiVersion.v2_9) {
    await start(version);
    await push({
      streams: [
        stream(
          app,
          [ns(now - 3 * minute), line({ secret_name: "A", service_name: "orders", success: true })],
          [ns(now - 2 * minute), line({ secret_name: "B", service_name: "orders", success: false })],
          [ns(now - minute), line({ secret_name: "A", service_name: "billing", success: true })],
        ),
        stream({ ...app, event: "token.register" }, [ns(now - 30_000), line({ service_name: "orders" })]),
      ],
    });
  }

  const lines = async (response: Response) => {
    const body = (await response.json()) as {
      status: string;
      data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
    };
    expect(body.status).toBe("success");
    expect(body.data.resultType).toBe("streams");
    return body.data.result
      .flatMap((s) => s.values.map(([ts, text]) => ({ ts: BigInt(ts), text, stream: s.stream })))
      .sort((a, b) => (a.ts < b.ts ? 1 : -1));
  };

  it("selects by stream labels and filters on json fields, newest first within the limit", async () => {
    await filled();
    const all = await lines(
      await query({ query: '{service="secrets-service"}', start: ns(now - 60 * minute), end: ns(now) }),
    );
    expect(all).toHaveLength(4);
    const secretA = await lines(
      await query({
        query: '{service="secrets-service", event="secret.get"} | json | secret_name="A"',
        start: ns(now - 60 * minute),
        end: ns(now),
        direction: "backward",
      }),
    );
    expect(secretA.map((e) => JSON.parse(e.text).service_name)).toEqual(["billing", "orders"]);
    expect(secretA[0]?.stream).toMatchObject({ event: "secret.get", secret_name: "A", success: "true" });
    const refusals = await lines(
      await query({
        query: '{env="test"} | json | success="false"',
        start: ns(now - 60 * minute),
        end: ns(now),
      }),
    );
    expect(refusals.map((e) => JSON.parse(e.text).secret_name)).toEqual(["B"]);
    const limited = await lines(
      await query({
        query: '{env="test"} | json | service_name="orders"',
        start: ns(0),
        end: ns(now),
        limit: "1",
      }),
    );
    expect(limited).toHaveLength(1);
    expect(JSON.parse(limited[0]?.text ?? "{}")).toEqual({ service_name: "orders" });
  });

  it("in 3.x mode renames a parsed field that collides with service_name, as Loki 3 does", async () => {
    await filled(LokiVersion.v3_5);
    const range = { start: ns(0), end: ns(now) };
    // `| json` cannot overwrite the service_name label Loki 3 derived from `service`.
    const plain = await lines(
      await query({ query: '{env="test"} | json | service_name="orders"', ...range }),
    );
    expect(plain).toEqual([]);
    const renamed = await lines(
      await query({ query: '{env="test"} | json | service_name_extracted="orders"', ...range }),
    );
    expect(renamed).toHaveLength(3);
    expect(renamed[0]?.stream).toMatchObject({ service_name: "secrets-service" });
    // Explicit extraction under another name, after a line filter, finds them in either release.
    const explicit = await lines(
      await query({
        query: '{env="test"} |= `"service_name":"orders"` | json caller="service_name" | caller="orders"',
        ...range,
      }),
    );
    expect(explicit).toHaveLength(3);
  });

  it("honours start (inclusive) and end (exclusive), and refuses what it does not parse", async () => {
    await filled();
    const window = await lines(
      await query({ query: '{env="test"}', start: ns(now - 2 * minute), end: ns(now - minute) }),
    );
    expect(window).toHaveLength(1);
    expect((await query({ query: '{env=~"t.*"}' })).status).toBe(400);
    expect((await query({ query: '{env="test"} |~ "x"' })).status).toBe(400);
    expect((await query({ query: '{env="test"}', start: "yesterday" })).status).toBe(400);
  });

  it("parses the LogQL subset with escaped strings", () => {
    expect(parseLogql('{a="b", c="d \\"q\\""} |= "x" | json | k="v" != `y`')).toEqual({
      selector: [
        ["a", "b"],
        ["c", 'd "q"'],
      ],
      stages: [
        { kind: "line", contains: "x", negate: false },
        { kind: "json", fields: undefined },
        { kind: "label", name: "k", value: "v" },
        { kind: "line", contains: "y", negate: true },
      ],
    });
    expect(parseLogql('{a="b"} | json x="service_name", y="id"')).toMatchObject({
      stages: [
        {
          kind: "json",
          fields: [
            ["x", "service_name"],
            ["y", "id"],
          ],
        },
      ],
    });
    expect(typeof parseLogql("{}")).toBe("string");
  });
});
