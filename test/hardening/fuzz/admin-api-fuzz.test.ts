/**
 * Hostile input over HTTP, on a real admin API, vault and audit service: every route of the OpenAPI
 * document (so a new route is covered), with random path parameters, query strings and bodies (random
 * Unicode, NUL bytes, invalid UTF-8 and percent-encoding, oversized, wrong JSON types, deep JSON, wrong
 * content types) and random credentials. Every answer must come quickly, below 500, and, when it refuses,
 * in the API's error shape with a message; no process may crash or log a failure.
 *
 * A quick subset runs in `bun run test`; `bun run test:fuzz` runs thousands of cases (FUZZ_RUNS).
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "../../support/dashboard-build.ts";
import { type LokiReceiver, startLokiReceiver } from "../../support/loki-receiver.ts";
import type { ServiceProcess } from "../../support/processes.ts";
import { createStack, type Stack } from "../../support/stack.ts";
import {
  anyJson,
  anyText,
  deepJsonText,
  fuzzParameters,
  fuzzTimeoutMs,
  hostileText,
  oversizedText,
  percentEncode,
  validSecretName,
  validServiceName,
} from "./arbitraries.ts";

let stack: Stack;
let loki: LokiReceiver;
let processes: ServiceProcess[] = [];
let baseUrl = "";
const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;

interface Route {
  method: string;
  /** OpenAPI template: `/secrets/{id}/versions`. */
  path: string;
  query: string[];
  /** Property names of the JSON body, when the route takes one. */
  body: string[] | undefined;
}
let routes: Route[] = [];

beforeAll(async () => {
  // The API serves the dashboard at `/`: fuzz the built one, whatever ran before (without a build, `/`
  // answers a page that says to build it).
  await ensureDashboardBuilt();
  stack = await createStack();
  loki = await startLokiReceiver();
  const vault = await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  const audit = await stack.startAudit({ LOKI_URL: loki.url });
  // Limits high enough that the fuzz reaches the routes rather than the rate limiter (tested elsewhere).
  const adminApi = await stack.startAdminApi({
    ADMIN_LOGIN_RATE_PER_MINUTE: "1000000",
    ADMIN_AUTH_FAILURE_RATE_PER_MINUTE: "1000000",
  });
  processes = [vault, audit, adminApi.process];
  baseUrl = adminApi.url;
  const doc = (await (await fetch(`${baseUrl}/swagger/json`)).json()) as { paths: unknown };
  routes = Object.entries(doc.paths as Record<string, Record<string, OpenApiOperation>>).flatMap(
    ([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        query: (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
        body: operation.requestBody
          ? Object.keys(operation.requestBody.content["application/json"]?.schema?.properties ?? {})
          : undefined,
      })),
  );
});

afterAll(async () => {
  await stack?.dispose();
  await loki?.stop();
});

interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

/** Realistic values for fields whose names say what they hold, so some requests pass validation. */
function valuesFor(field: string): fc.Arbitrary<string>[] {
  if (/^(name|secretName|secret)$/.test(field)) return [validSecretName];
  if (/^(serviceName|service)$/.test(field)) return [validServiceName];
  if (field === "token") return [fc.constant(adminToken)];
  if (field === "id") return [fc.uuid()];
  if (field === "status") return [fc.constantFrom("pending", "granted", "approved", "denied", "revoked")];
  if (field === "limit" || /version/i.test(field)) return [fc.integer({ min: -5, max: 2_000 }).map(String)];
  if (field === "missing") return [fc.constantFrom("true", "false")];
  return [];
}

/** A path parameter: an id, any text, or broken percent-encoding. */
const pathValue: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  anyText().map(percentEncode),
  fc.constantFrom("%", "%ZZ", "%E0%A4%A", "%00", "..%2F..%2Fetc", "%C0%AF", "%FF%FE", "."),
);

const queryString = (names: string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...(names.length > 0 ? names : ["q"])), hostileText(12)),
          fc.oneof(anyText(valuesFor("")), ...names.flatMap(valuesFor)),
        ),
        { maxLength: 6 },
      ),
      fc.constantFrom("", "&%", "&a=%ZZ", "&&&", "&=x"),
    )
    .map(([pairs, tail]) => {
      const text =
        pairs.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join("&") + tail;
      return text === "" ? "" : `?${text}`;
    });

interface Body {
  contentType: string | undefined;
  data: string | Uint8Array | undefined;
}

const contentTypes = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      "text/plain",
      "application/json; charset=latin1",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/vnd.api+json",
    ),
    weight: 1,
  },
);

/** A request body: shaped like the route's (with hostile values), any JSON, deep JSON, garbage, too big. */
const bodyOf = (fields: string[] | undefined): fc.Arbitrary<Body> => {
  const shaped = fc
    .record(
      Object.fromEntries(
        [...(fields ?? []), "__proto__", "extra"].map((field) => [
          field,
          fc.option(fc.oneof(anyText(valuesFor(field)), anyJson), { nil: undefined }),
        ]),
      ),
    )
    .map((value) => JSON.stringify(value));
  const data = fc.oneof(
    { arbitrary: shaped, weight: 6 },
    { arbitrary: anyJson.map((value) => JSON.stringify(value) ?? "null"), weight: 2 },
    { arbitrary: deepJsonText, weight: 1 },
    { arbitrary: hostileText(), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
    { arbitrary: oversizedText.map((text) => JSON.stringify({ name: "BIG", value: text })), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
  return fc.record({ contentType: contentTypes, data });
};

/** Who asks: mostly the admin (to get past authentication), else nobody or a forger. */
const credentials: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { arbitrary: fc.constant({ authorization: `Bearer ${adminToken}` }), weight: 6 },
  {
    arbitrary: fc.oneof(
      fc.constant({}),
      fc.constant({ authorization: `Bearer ${adminToken}x` }),
      fc.constant({ authorization: "Basic YWRtaW46YWRtaW4=" }),
      fc.constant({ cookie: "secrets_session=AAAA; secrets_session=BBBB" }),
      hostileText(20).map((text) => ({ cookie: `secrets_session=${percentEncode(text)}` })),
      fc.constant({ authorization: `Bearer ${"A".repeat(10_000)}` }),
    ),
    weight: 2,
  },
);

const requestOf = (route: Route) =>
  fc.record({
    path: fc
      .array(pathValue, { minLength: 3, maxLength: 3 })
      .map((values) => route.path.replace(/\{[^}]+\}/g, () => values.pop() ?? "x")),
    query: queryString(route.query),
    body: route.body !== undefined || route.method === "POST" ? bodyOf(route.body) : fc.constant(undefined),
    headers: credentials,
  });

interface Answer {
  status: number;
  ms: number;
  text: string;
  headers: Headers;
}

async function send(
  method: string,
  target: string,
  body: Body | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  const started = performance.now();
  const all = new Headers();
  for (const [key, value] of Object.entries(headers)) all.set(key, value);
  if (body?.contentType !== undefined) all.set("content-type", body.contentType);
  const response = await fetch(`${baseUrl}${target}`, {
    method,
    headers: all,
    body: body?.data,
    signal: AbortSignal.timeout(10_000),
    redirect: "manual",
  });
  const text = await response.text();
  return {
    status: response.status,
    ms: Math.round(performance.now() - started),
    text,
    headers: response.headers,
  };
}

/**
 * Below 500, quick, and a refusal in the API's shape: `{ error: { code, message, requestId } }`. Bun's HTTP
 * server itself refuses, before the API sees them, a request line or headers over 16 KiB (a bare 431) and
 * a body over twice ADMIN_MAX_BODY_BYTES (a bare 413; below that the API's parser answers 413 itself).
 */
function expectClearAnswer(answer: Answer, what: string): void {
  if (answer.status >= 500) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
  if (answer.ms > 5_000) throw new Error(`${what}: answered after ${answer.ms} ms`);
  if ((answer.status === 431 || answer.status === 413) && answer.text === "") return;
  if (answer.headers.get("x-content-type-options") !== "nosniff") {
    throw new Error(`${what}: ${answer.status} without the security headers`);
  }
  if (answer.status < 400) return;
  let error: { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
  try {
    error = JSON.parse(answer.text).error;
  } catch {
    throw new Error(`${what}: ${answer.status} without a JSON error body: ${answer.text.slice(0, 200)}`);
  }
  if (typeof error?.code !== "string" || typeof error.message !== "string" || error.message === "") {
    throw new Error(`${what}: ${answer.status} without a code and message: ${answer.text.slice(0, 200)}`);
  }
  if (typeof error.requestId !== "string") throw new Error(`${what}: no request id`);
}

describe("hostile input over HTTP", () => {
  it("covers every documented route", () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  // The routes are only known once the API runs: one property per route, each picked by index.
  for (let index = 0; index < 24; index++) {
    it(
      `route #${index}: any path, query, body and credentials → a clear answer in time`,
      async () => {
        const route = routes[index];
        if (!route) return; // fewer routes than slots
        await fc.assert(
          fc.asyncProperty(requestOf(route), async ({ path, query, body, headers }) => {
            const answer = await send(route.method, `${path}${query}`, body, headers);
            expectClearAnswer(answer, `${route.method} ${route.path} (${path}${query})`);
          }),
          fuzzParameters(),
        );
      },
      fuzzTimeoutMs,
    );
  }

  it(
    "any method on any path → a clear answer in time",
    async () => {
      const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
      const path = fc.oneof(
        fc.array(pathValue, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`),
        fc.constantFrom(
          "/",
          "/index.html",
          "/assets/",
          "/assets/..%2F..%2Fpackage.json",
          "/swagger/json",
          "//secrets",
        ),
      );
      await fc.assert(
        fc.asyncProperty(method, path, credentials, async (m, p, headers) => {
          expectClearAnswer(await send(m, p, undefined, headers), `${m} ${p}`);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs,
  );

  it("left every process running, with no failure in its log", async () => {
    for (const process of processes) {
      expect(
        await Promise.race([process.exited.then(() => "exited"), Bun.sleep(0).then(() => "running")]),
      ).toBe("running");
      expect(process.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    }
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
  });
});
