/**
 * Leaks: a full end-to-end run on a private NATS server (vault, gateway, admin API, audit shipper to a Loki
 * stand-in, and the SDK's example service as real processes): tokens registered, approved, denied and
 * revoked; stubs, values set by token and by session, updated, rolled back, rotated under a new key,
 * watched, read over gRPC, deleted; audit queried; and failures of every kind. Then everything that left a
 * process is searched for every secret value, service token and admin token (as UTF-8, JSON-escaped, hex,
 * base64 and base64url): every HTTP response, every gRPC answer but the values GetSecret returns, every log
 * line of every process, every audit event (in Loki and on the stream), every message on the bus (the
 * vault's GetSecret replies included: their values are sealed to the gateway that asked), and a pg_dump of
 * the database. None may contain one.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { type SecretChange, SecretsServiceClient } from "@secrets/proto/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { readAuditStream } from "../support/audit-stream.ts";
import { type BusRecorder, recordBus, repliesTo } from "../support/bus-recorder.ts";
import { type CallOutcome, secretsClient } from "../support/grpc-client.ts";
import { findLeaks, type Haystack } from "../support/leak-search.ts";
import { waitUntil } from "../support/load.ts";
import { type LokiReceiver, startLokiReceiver } from "../support/loki-receiver.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { type ServiceProcess, startService } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";
import { newServiceToken } from "../support/tokens.ts";

/** The vault operations whose replies carry values, sealed to the gateway that asked. */
const valueReplies = ["v1.vault.service.get-secret", "v1.vault.service.get-secrets"];

let nats: NatsServerHandle;
let bus: BusRecorder;
let stack: Stack;
let loki: LokiReceiver;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let adminUrl = "";
const extraProcesses: ServiceProcess[] = [];

const canary = (label: string) => `${label}-${randomBytes(16).toString("hex")}`;
const values = {
  bearer: canary("bearer-value"),
  session: canary("session-value"),
  updated: canary("updated-value"),
  unicode: `pässwörd-🔑-${randomBytes(12).toString("hex")}`,
  greeting: canary("greeting-value"),
  refusedName: canary("refused-name-value"),
  refusedNul: canary("refused-nul-value"),
  malformed: canary("malformed-body-value"),
  oversized: canary("oversized-value"),
};
const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const tokens: Record<string, string> = {
  admin: adminToken,
  billing: newServiceToken(),
  reports: newServiceToken(),
};

beforeAll(async () => {
  nats = await startNatsServer();
  bus = await recordBus(nats.url);
  stack = await createStack({ natsUrl: nats.url });
  loki = await startLokiReceiver();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken, LOG_LEVEL: "debug" });
  gateway = await stack.startGateway({ LOG_LEVEL: "debug" });
  adminUrl = (await stack.startAdminApi({ LOG_LEVEL: "debug" })).url;
  await stack.startAudit({ LOKI_URL: loki.url, LOG_LEVEL: "debug" });
});

afterAll(async () => {
  for (const process of extraProcesses) await process.stop();
  await bus?.close();
  await stack?.dispose();
  await loki?.stop();
  await nats?.dispose();
});

/** Opens WatchSecrets and keeps what it receives until `stop`. */
function watch(names: string[], token: string) {
  const client = new SecretsServiceClient(
    gateway.address,
    credentials.createSsl(readFileSync(gateway.caFile)),
  );
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  const changes: SecretChange[] = [];
  const errors: string[] = [];
  const call = client.watchSecrets({ secretNames: names, token: "" }, metadata);
  call.on("data", (change: SecretChange) => changes.push(change));
  call.on("error", (error: ServiceError) => errors.push(`${error.code} ${error.details}`));
  return {
    changes,
    errors,
    stop() {
      call.cancel();
      client.close();
    },
  };
}

/** GetSecrets, as a service calls it at start-up; the answer without its values. */
function getSecrets(
  names: string[],
  token: string,
): Promise<{ ok: boolean; answer: string; values: string[] }> {
  const client = new SecretsServiceClient(
    gateway.address,
    credentials.createSsl(readFileSync(gateway.caFile)),
  );
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  const secrets = names.map((secretName) => ({ secretName, description: "asked together" }));
  return new Promise((resolve) => {
    client.getSecrets({ secrets, token: "" }, metadata, (error, response) => {
      client.close();
      const results = response?.results ?? [];
      resolve({
        ok: error === null,
        answer: JSON.stringify({ error: error?.details, results: results.map((r) => ({ ...r, value: "" })) }),
        values: results.map((r) => r.value),
      });
    });
  });
}

describe("a full end-to-end run", () => {
  it("leaves no secret value, service token or admin token anywhere but in the values GetSecret returns", async () => {
    const grpc = secretsClient(gateway.address, gateway.caFile);
    const http = adminHttpClient(adminUrl);
    const grpcAnswers: CallOutcome<unknown>[] = [];
    const otherAnswers: string[] = [];
    const call = async <T>(outcome: Promise<CallOutcome<T>>) => {
      const answer = await outcome;
      // What a service receives, except the value a successful GetSecret returns (that is its purpose).
      grpcAnswers.push({ ...answer, response: answer.ok ? { ...answer.response, value: "" } : undefined });
      return answer;
    };
    const bearer = http.as({ token: adminToken });
    try {
      // Tokens: registered, approved, denied, revoked; re-registration of a known token.
      await call(grpc.registerToken("billing", tokens.billing ?? ""));
      await call(grpc.registerToken("reports", tokens.reports ?? ""));
      await call(grpc.registerToken("billing", tokens.billing ?? ""));
      const pending = (await bearer.listServiceTokens("pending")).json.serviceTokens as {
        id: string;
        serviceName: string;
      }[];
      const idOf = (name: string) => pending.find((t) => t.serviceName === name)?.id ?? "";
      await call(grpc.getSecret("BILLING_KEY", tokens.billing ?? "", { description: "Billing API key" }));
      await bearer.approveToken(idOf("billing"));
      await bearer.denyToken(idOf("reports"));
      await bearer.revokeToken(idOf("reports"));
      await call(grpc.getSecret("BILLING_KEY", tokens.reports ?? ""));

      // A stub, its value by bearer token, the grant, the value over gRPC.
      expect(await call(grpc.getSecret("BILLING_KEY", tokens.billing ?? ""))).toMatchObject({
        reason: "SECRET_STUB_CREATED",
      });
      await bearer.putSecret({ name: "BILLING_KEY", value: values.bearer });
      const requests = (await bearer.listAccessRequests("pending")).json.accessRequests as { id: string }[];
      await bearer.approveAccess(requests[0]?.id ?? "");
      expect(await call(grpc.getSecret("BILLING_KEY", tokens.billing ?? ""))).toMatchObject({ ok: true });
      const together = await getSecrets(["BILLING_KEY", "NOT_YET_THERE"], tokens.billing ?? "");
      expect(together.values).toContain(values.bearer);
      otherAnswers.push(together.answer);

      // By session: create, update, versions, rollback, grant, watch, delete.
      const { cookie } = await http.signIn(adminToken);
      const session = http.as({ cookie });
      await session.session();
      const created = await session.putSecret({
        name: "REPORTS_KEY",
        description: "Reports",
        value: values.unicode,
      });
      const reportsId = created.json.secret.id as string;
      await session.grantAccess("REPORTS_KEY", "billing");
      const watcher = watch(["REPORTS_KEY", "BILLING_KEY"], tokens.billing ?? "");
      await waitUntil(() => watcher.changes.length >= 2, "the watch stream's first versions");
      await session.putSecret({ name: "REPORTS_KEY", value: values.session });
      await http.send("GET", `/secrets/${reportsId}/versions`, { credential: { cookie } });
      await http.send("POST", `/secrets/${reportsId}/rollback`, {
        credential: { cookie },
        body: { version: 1 },
      });
      expect(await call(grpc.getSecret("REPORTS_KEY", tokens.billing ?? ""))).toMatchObject({ ok: true });
      await session.putSecret({ name: "REPORTS_KEY", value: values.updated });
      await waitUntil(() => watcher.changes.length >= 5, "the watch stream's changes");
      await session.deleteSecret(reportsId);
      await waitUntil(() => watcher.changes.some((c) => c.deleted), "the deletion on the watch stream");
      watcher.stop();

      // Keys: rotated; the value is read again (and rewrapped) under the new key.
      await http.send("POST", "/keys/rotate", { credential: { token: adminToken } });
      await http.send("GET", "/keys", { credential: { token: adminToken } });
      expect(await call(grpc.getSecret("BILLING_KEY", tokens.billing ?? ""))).toMatchObject({ ok: true });

      // Failures of every kind, secrets in the requests.
      await bearer.putSecret({ name: "bad name", value: values.refusedName });
      await bearer.putSecret({ name: "NUL_VALUE", value: `${values.refusedNul}\u0000` });
      await http.send("POST", "/secrets", {
        credential: { token: adminToken },
        rawBody: `{"name":"X","value":"${values.malformed}"`,
      });
      await http.send("POST", "/secrets", {
        credential: { token: adminToken },
        body: { name: "HUGE", value: `${values.oversized}${"x".repeat(300 * 1024)}` },
      });
      await http.signIn(`${adminToken}x`);
      await http.as({ token: `${adminToken}x` }).listSecrets();
      await call(grpc.getSecret("BILLING_KEY", `${tokens.billing}x`));
      await call(grpc.registerToken("billing", `${tokens.billing}!`));
      await call(grpc.getSecret("bad name", tokens.billing ?? ""));

      // The SDK's example service: registers its own token, waits for approval, reads GREETING.
      await bearer.putSecret({ name: "GREETING", value: values.greeting });
      await bearer.grantAccess("GREETING", "hello");
      const hello = await startService("hello", "examples/hello/index.ts", {
        env: { SECRETS_DATA_DIR: join(gateway.caFile, "..", ".."), GRPC_PORT: String(gateway.port) },
      });
      extraProcesses.push(hello);
      await waitUntil(
        async () => (await bearer.listServiceTokens("pending")).json.serviceTokens.length > 0,
        "the hello service's registration",
      );
      const helloToken = (await bearer.listServiceTokens("pending")).json.serviceTokens[0].id as string;
      await bearer.approveToken(helloToken);
      expect(await hello.exited).toBe(0);
      const tokenFile = readFileSync(
        join(gateway.caFile, "..", "..", "hello", "service-token"),
        "utf8",
      ).trim();
      tokens.hello = tokenFile.startsWith("{") ? JSON.parse(tokenFile).token : tokenFile;

      // The audit trail, queried and shipped.
      await http.send("GET", "/audit?secret=BILLING_KEY&limit=1000", { credential: { token: adminToken } });
      await http.send("GET", "/audit?service=billing&limit=1000", { credential: { cookie } });
      await session.signOut();
      await waitUntil(
        () =>
          loki
            .entries()
            .some((e) => e.line.includes('"service_name":"hello"') && e.line.includes('"success":true')),
        "the audit trail in Loki",
      );
    } finally {
      grpc.close();
    }
    await bus.flush();

    // Collect everything that left a process.
    const dump = Bun.spawnSync(["pg_dump", stack.databaseUrl], { stdout: "pipe", stderr: "pipe" });
    expect(dump.exitCode).toBe(0);
    const busMessages = bus.messages;
    const haystacks: Haystack[] = [
      ...http.recorded.map((r) => ({
        name: `HTTP ${r.request} → ${r.statusLine}`,
        data: [r.statusLine, ...r.headers.map(([k, v]) => `${k}: ${v}`), "", r.body].join("\n"),
      })),
      ...grpcAnswers.map((answer) => ({
        name: `gRPC answer ${answer.requestId}`,
        data: JSON.stringify(answer),
      })),
      ...otherAnswers.map((answer) => ({ name: "gRPC GetSecrets answer", data: answer })),
      ...stack.logLines().map((line, i) => ({ name: `log line ${i}`, data: line })),
      ...extraProcesses.flatMap((p) => p.lines.map((line) => ({ name: `${p.name} log`, data: line }))),
      { name: "nats-server log", data: nats.log() },
      ...loki.entries().map((entry) => ({ name: "Loki entry", data: JSON.stringify(entry) })),
      ...(await readAuditStream(nats.url, stack.namespace)).map((e) => ({
        name: "audit stream",
        data: e.data,
      })),
      ...busMessages.map((m) => ({
        name: `bus ${m.subject}`,
        data: Buffer.concat([Buffer.from(m.subject), m.data]),
      })),
      { name: "pg_dump", data: dump.stdout },
    ];
    const secrets = {
      ...values,
      ...Object.fromEntries(Object.entries(tokens).map(([k, v]) => [`${k} token`, v])),
    };
    expect(findLeaks(haystacks, secrets)).toEqual([]);

    // The search looked at real content, and can find what it looks for.
    expect(http.recorded.length).toBeGreaterThan(30);
    expect(loki.entries().length).toBeGreaterThan(20);
    expect(busMessages.length).toBeGreaterThan(100);
    expect(busMessages.some((m) => Buffer.from(m.data).includes("BILLING_KEY"))).toBe(true);
    expect(new TextDecoder().decode(dump.stdout)).toContain("BILLING_KEY");
    // The replies that carry values were recorded, and searched with the rest: they hold them sealed.
    const sealedReplies = repliesTo(bus.messages, stack.namespace, valueReplies);
    expect(sealedReplies.length).toBeGreaterThan(5);
    expect(
      findLeaks([{ name: "a value, as a reply in clear would hold it", data: values.bearer }], {
        bearer: values.bearer,
      }),
    ).not.toEqual([]);
  });
});
