/**
 * The admin API under test without a port: `createApp` on a MemoryBus served by the fake vault, requests
 * through `app.handle`. Records every response, every bus payload and every log line, so tests can look
 * for leaks anywhere. Every response is checked against the served OpenAPI document (`@secrets/test/support/openapi-contract`),
 * and a handler's undeclared field is refused rather than dropped: a response the document does not
 * describe fails the test that received it.
 */
import { MemoryBus } from "@secrets/bus";
import { createLogger, silentLogger } from "@secrets/logger";
import { contractProblems } from "@secrets/test/support/openapi-contract";
import { type AppConfig, createApp, parseAdminApiConfig } from "../src/index.ts";
import { createFakeAudit } from "./fake-audit.ts";
import { createFakeVault } from "./fake-vault.ts";

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** JSON body (sets Content-Type). */
  body?: unknown;
  /** A body sent as is, with the given headers. */
  rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
  cookie?: string;
  origin?: string;
  /** The client address (X-Forwarded-For; the harness trusts the proxy). Default 203.0.113.7. */
  ip?: string;
  headers?: Record<string, string>;
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  setCookie: string[];
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely in assertions
  json: any;
}

export interface HarnessOptions {
  config?: Partial<AppConfig>;
  /** false: nobody serves the admin operations (NO_RESPONDERS). */
  serveVault?: boolean;
  /** false: nobody serves the audit queries. */
  serveAudit?: boolean;
}

export function createHarness(options: HarnessOptions = {}) {
  // A clock that moves only when a test says so, shared by the app and the fake vault.
  let nowMs = Date.now();
  const clock = {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
  const bus = new MemoryBus({ namespace: "admintest", logger: silentLogger });
  const traffic: Uint8Array[] = [];
  const request = bus.request.bind(bus);
  bus.request = async (subject, payload, requestOptions) => {
    traffic.push(payload.slice());
    const reply = await request(subject, payload, requestOptions);
    traffic.push(reply.slice());
    return reply;
  };
  const vault = createFakeVault({ now: clock.now });
  const audit = createFakeAudit();
  if (options.serveVault !== false) {
    vault.serve(bus);
    if (options.serveAudit !== false) audit.serve(bus);
  }
  const logLines: string[] = [];
  const logger = createLogger({ service: "admin-api", level: "debug", write: (line) => logLines.push(line) });
  const config: AppConfig = {
    ...parseAdminApiConfig({}),
    trustProxy: true,
    vaultTimeoutMs: 500,
    ...options.config,
  };
  const app = createApp({ bus, logger, config, now: clock.now, undeclaredResponseFields: "refuse" });
  const exchanges: Exchange[] = [];

  async function call(method: string, path: string, init: CallOptions = {}): Promise<Exchange> {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
    if (init.cookie !== undefined) headers.set("cookie", init.cookie);
    if (init.origin !== undefined) headers.set("origin", init.origin);
    headers.set("x-forwarded-for", init.ip ?? "203.0.113.7");
    let body: RequestInit["body"] = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers.set("content-type", "application/json");
    }
    const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const exchange: Exchange = {
      method,
      path,
      status: response.status,
      headers: Object.fromEntries(response.headers),
      setCookie: response.headers.getSetCookie(),
      text,
      json,
    };
    exchanges.push(exchange);
    const problems = contractProblems(await documentOf(app), exchange);
    if (problems.length > 0)
      throw new Error(`${method} ${path}: the response breaks the OpenAPI document:\n${problems.join("\n")}`);
    return exchange;
  }

  /** Log lines settle after the response (onAfterResponse): wait until `count` request lines exist. */
  async function requestLogLines(count = 1): Promise<Record<string, unknown>[]> {
    for (let i = 0; i < 100; i++) {
      const lines = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
      if (lines.length >= count) return lines;
      await Bun.sleep(5);
    }
    throw new Error(`fewer than ${count} request log lines`);
  }

  return {
    app,
    bus,
    vault,
    audit,
    clock,
    config,
    traffic,
    logLines,
    exchanges,
    call,
    requestLogLines,
    /** An admin token the fake vault accepts (for `alice`). */
    adminToken: vault.addAdmin("alice"),
  };
}

export type Harness = ReturnType<typeof createHarness>;

let servedDocument: Promise<unknown> | undefined;

/** The OpenAPI document the app serves (the same for every harness: the routes do not vary). */
function documentOf(app: ReturnType<typeof createApp>): Promise<unknown> {
  servedDocument ??= app.handle(new Request("http://localhost/swagger/json")).then((r) => r.json());
  return servedDocument;
}

/** Every place a response could carry something: status line, headers, body. */
export function serialiseExchange(exchange: Exchange): string {
  return [
    exchange.status,
    JSON.stringify(exchange.headers),
    exchange.setCookie.join("\n"),
    exchange.text,
  ].join("\n");
}
