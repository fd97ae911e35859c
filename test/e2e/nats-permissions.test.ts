/**
 * deploy/nats.conf on a real nats-server: every service runs with its own credentials and does its whole
 * job (a secret reaches a service over gRPC, the admin acts over HTTP, the audit trail reaches Loki and
 * answers queries), and each credential is refused what it must not do: for every operation and topic of
 * the subjects registry, who may request, serve, publish and listen, who may read or delete the audit
 * stream, and whose replies each may hear (a new subject fails the matrix until it is placed).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as busApi from "@secrets/bus";
import { adminOperations, auditOperations, serviceOperations } from "@secrets/bus";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminHttpClient } from "../support/admin-http.ts";
import { secretsClient } from "../support/grpc-client.ts";
import { type LokiReceiver, startLokiReceiver } from "../support/loki-receiver.ts";
import {
  forLocalNatsServer,
  freePort,
  type NatsServerHandle,
  startNatsServer,
} from "../support/nats-server.ts";
import { createTestDatabase } from "../support/postgres.ts";
import { repoRoot, type ServiceProcess, startService } from "../support/processes.ts";
import { newAdminToken, newServiceToken } from "../support/tokens.ts";

/**
 * Passwords in the form deploy/example.env generates. nats-server parses a variable's value as a config
 * value, so one starting with a digit (half of all UUIDs) stops it: the prefix keeps each a plain string.
 */
const natsPassword = () => `nats_${randomBytes(32).toString("hex")}`;
const passwords = {
  vault: natsPassword(),
  gateway: natsPassword(),
  admin: natsPassword(),
  audit: natsPassword(),
};
type User = keyof typeof passwords;
const adminToken = newAdminToken();

let nats: NatsServerHandle;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let loki: LokiReceiver;
const processes: ServiceProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "nats-permissions-"));
let grpcAddress = "";
let adminUrl = "";

/** The service's NATS settings, as the compose file gives them. */
const natsEnv = (user: User) => ({
  NATS_URL: nats.url,
  NATS_USER: user,
  NATS_PASSWORD: passwords[user],
  NATS_INBOX_PREFIX: `_INBOX_${user}`,
  BUS_NAMESPACE: "secrets",
  LOG_LEVEL: "info",
});

beforeAll(async () => {
  // The deployment's file as is, minus its monitoring port and store path (the harness sets its own).
  const config = forLocalNatsServer(readFileSync(join(repoRoot, "deploy", "nats.conf"), "utf8"))
    .replace(/^http:.*$/m, "")
    .replace(/^\s*store_dir:.*$/m, "");
  nats = await startNatsServer({
    config,
    env: {
      NATS_VAULT_PASSWORD: passwords.vault,
      NATS_GATEWAY_PASSWORD: passwords.gateway,
      NATS_ADMIN_PASSWORD: passwords.admin,
      NATS_AUDIT_PASSWORD: passwords.audit,
    },
  });
  database = await createTestDatabase();
  loki = await startLokiReceiver();
  const start = async (name: string, env: Record<string, string>, readyLog: string) => {
    const process = await startService(name, `services/${name}/src/main.ts`, { env, readyLog });
    processes.push(process);
    return process;
  };
  await start(
    "vault",
    {
      ...natsEnv("vault"),
      DATABASE_URL: database.url,
      SECRETS_DATA_DIR: join(dataDir, "vault"),
      ADMIN_BOOTSTRAP_TOKEN: adminToken,
    },
    "vault ready",
  );
  const grpcPort = await freePort();
  await start(
    "gateway-grpc",
    {
      ...natsEnv("gateway"),
      GRPC_PORT: String(grpcPort),
      GRPC_HOST: "127.0.0.1",
      SECRETS_DATA_DIR: join(dataDir, "gateway"),
    },
    "gateway listening",
  );
  grpcAddress = `localhost:${grpcPort}`;
  const adminPort = await freePort();
  await start(
    "admin-api",
    {
      ...natsEnv("admin"),
      ADMIN_PORT: String(adminPort),
      ADMIN_HOST: "127.0.0.1",
      ADMIN_COOKIE_SECURE: "false",
    },
    "admin api listening",
  );
  adminUrl = `http://127.0.0.1:${adminPort}`;
  await start(
    "audit",
    { ...natsEnv("audit"), LOKI_URL: loki.url, SECRETS_DATA_DIR: join(dataDir, "audit") },
    "audit ready",
  );
});

afterAll(async () => {
  for (const process of processes) await process.stop();
  await loki?.stop();
  await nats?.dispose();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function as(user: User): Promise<NatsConnection> {
  return connect({ servers: nats.url, user, pass: passwords[user], inboxPrefix: `_INBOX_${user}` });
}

/** The outcome of a request: "allowed" when the server let it through (whatever the answer), else the error. */
async function tryRequest(nc: NatsConnection, subject: string): Promise<string> {
  try {
    await nc.request(subject, new Uint8Array(), { timeout: 1_000 });
    return "allowed";
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    return code === "PERMISSIONS_VIOLATION"
      ? "denied"
      : code === "503" || code === "TIMEOUT"
        ? "allowed"
        : code;
  }
}

/** Whether the server refused a subscription (it closes it with a permissions error). */
async function trySubscribe(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  const refused = (async () => {
    try {
      for await (const _ of sub) return "allowed";
      return "allowed";
    } catch (error) {
      return (error as { code?: string }).code === "PERMISSIONS_VIOLATION" ? "denied" : "error";
    }
  })();
  await nc.flush();
  const outcome = await Promise.race([refused, Bun.sleep(500).then(() => "allowed")]);
  sub.unsubscribe();
  return outcome;
}

/** Publishes and reports whether the server logged a publish violation for this user and subject. */
async function tryPublish(nc: NatsConnection, user: User, subject: string): Promise<string> {
  nc.publish(subject, new Uint8Array([1]));
  await nc.flush();
  await Bun.sleep(100);
  return nats.log().includes(`Publish Violation - User "${user}", Subject "${subject}"`)
    ? "denied"
    : "allowed";
}

describe("deploy/nats.conf", () => {
  it("lets every service do its whole job with its own credentials", async () => {
    const grpc = secretsClient(grpcAddress, join(dataDir, "gateway", "tls", "ca.crt"));
    const http = adminHttpClient(adminUrl);
    const credential = { token: adminToken };
    const serviceToken = newServiceToken();
    try {
      await grpc.registerToken("inventory", serviceToken);
      const tokens = await http.send("GET", "/service-tokens?status=pending", { credential });
      await http.send("POST", `/service-tokens/${tokens.json.serviceTokens[0].id}/approve`, { credential });
      expect(await grpc.getSecret("INVENTORY_DB", serviceToken)).toMatchObject({
        reason: "SECRET_STUB_CREATED",
      });
      await http.send("POST", "/secrets", {
        credential,
        body: { name: "INVENTORY_DB", value: "postgres://inv" },
      });
      const pending = await http.send("GET", "/access-requests?status=pending", { credential });
      await http.send("POST", `/access-requests/${pending.json.accessRequests[0].id}/approve`, {
        credential,
      });
      expect(await grpc.getSecret("INVENTORY_DB", serviceToken)).toMatchObject({
        response: { value: "postgres://inv" },
      });
      const deadline = Date.now() + 20_000;
      while (
        !loki.entries().some((e) => e.line.includes('"secret.get"') && e.line.includes('"success":true'))
      ) {
        if (Date.now() > deadline) throw new Error("no successful secret.get reached Loki");
        await Bun.sleep(100);
      }
      const audit = await http.send("GET", "/audit?secret=INVENTORY_DB", { credential });
      expect(audit.status).toBe(200);
      expect(audit.json.events.length).toBeGreaterThan(0);
    } finally {
      grpc.close();
    }
    expect(nats.log()).not.toMatch(/Violation - User "(vault|gateway|admin|audit)"/);
  });

  it("keeps the gateway to the vault's service-facing subjects", async () => {
    const nc = await as("gateway");
    try {
      expect(await tryRequest(nc, "secrets.v1.vault.service.ping")).toBe("allowed");
      expect(await tryRequest(nc, "secrets.v1.vault.admin.list-secrets")).toBe("denied");
      expect(await tryRequest(nc, "secrets.v1.audit.query")).toBe("denied");
      expect(await trySubscribe(nc, "secrets.v1.audit.events")).toBe("denied");
      expect(await trySubscribe(nc, "_INBOX_vault.>")).toBe("denied");
      expect(await tryRequest(nc, "$JS.API.CONSUMER.MSG.NEXT.SECRETS_AUDIT.audit-shipper")).toBe("denied");
      expect(await tryPublish(nc, "gateway", "secrets.v1.audit.events")).toBe("denied");
    } finally {
      await nc.close();
    }
  });

  it("keeps the admin API to the admin subjects and audit queries", async () => {
    const nc = await as("admin");
    try {
      expect(await tryRequest(nc, "secrets.v1.vault.admin.ping")).toBe("allowed");
      expect(await tryRequest(nc, "secrets.v1.audit.query")).toBe("allowed");
      expect(await tryRequest(nc, "secrets.v1.vault.service.get-secret")).toBe("denied");
      expect(await trySubscribe(nc, "_INBOX_gateway.>")).toBe("denied");
      expect(await tryPublish(nc, "admin", "secrets.v1.audit.events")).toBe("denied");
    } finally {
      await nc.close();
    }
  });

  it("keeps the audit service to its consumer and its own subjects", async () => {
    const nc = await as("audit");
    try {
      expect(await tryRequest(nc, "secrets.v1.vault.service.get-secret")).toBe("denied");
      expect(await tryRequest(nc, "secrets.v1.vault.admin.put-secret")).toBe("denied");
      expect(await tryPublish(nc, "audit", "secrets.v1.audit.events")).toBe("denied");
      expect(await tryPublish(nc, "audit", "secrets.v1.vault.admin.approve-service-token")).toBe("denied");
      expect(await trySubscribe(nc, "secrets.v1.vault.>")).toBe("denied");
    } finally {
      await nc.close();
    }
  });

  it("lets only the vault publish audit events", async () => {
    const nc = await as("vault");
    try {
      expect(await tryPublish(nc, "vault", "secrets.v1.audit.events")).toBe("allowed");
      expect(await tryRequest(nc, "secrets.v1.vault.admin.list-secrets")).toBe("denied");
    } finally {
      await nc.close();
    }
  });

  it("gives each credential exactly its job, for every subject of the registry", async () => {
    const users: User[] = ["vault", "gateway", "admin", "audit"];
    // Who may request each operation; a new operation fails here until it is placed.
    const requesters = (subject: string): User[] => {
      if (subject === serviceOperations.ping.subject) return ["gateway", "vault"]; // vault: its healthcheck
      if (subject.startsWith("v1.vault.service.")) return ["gateway"];
      if (subject.startsWith("v1.vault.admin.")) return ["admin"];
      if (subject === auditOperations.query.subject) return ["admin"];
      if (subject === auditOperations.verify.subject) return ["admin"];
      if (subject === auditOperations.status.subject) return ["audit"]; // its healthcheck
      throw new Error(`no expectation for ${subject}: add one`);
    };
    const operations = [serviceOperations, adminOperations, auditOperations].flatMap((group) =>
      Object.values(group).map((operation) => operation.subject),
    );
    // Every topic the bus package exports (a `subject` and a `message` codec), new ones included.
    const topics = Object.values(busApi as Record<string, unknown>)
      .filter(
        (value): value is { subject: string } =>
          typeof value === "object" && value !== null && "message" in value,
      )
      .map((topic) => topic.subject);
    expect(topics).toEqual(expect.arrayContaining(["v1.audit.events", "v1.vault.events.secret-changed"]));
    const absolute = (subject: string) => `secrets.${subject}`;

    const expected: string[] = [];
    const seen: string[] = [];
    const connections = await Promise.all(users.map((user) => as(user)));
    try {
      await Promise.all(
        users.map(async (user, index) => {
          const nc = connections[index] as NatsConnection;
          const checks: Promise<void>[] = [];
          for (const subject of operations) {
            const allowed = requesters(subject).includes(user);
            expected.push(`${user} request ${subject}: ${allowed ? "allowed" : "denied"}`);
            checks.push(
              tryRequest(nc, absolute(subject)).then(
                (r) => void seen.push(`${user} request ${subject}: ${r}`),
              ),
            );
            // Serving an operation: the vault its own, the audit service the audit ones.
            const server = subject.startsWith("v1.vault.") ? "vault" : "audit";
            expected.push(`${user} serve ${subject}: ${user === server ? "allowed" : "denied"}`);
            checks.push(
              trySubscribe(nc, absolute(subject)).then(
                (r) => void seen.push(`${user} serve ${subject}: ${r}`),
              ),
            );
          }
          for (const subject of topics) {
            // Only the vault publishes events; the audit trail's go through JetStream to the audit service.
            const gatewayHears = ["v1.vault.events.secret-changed", "v1.vault.events.service-tokens-changed"];
            const listeners: User[] = gatewayHears.includes(subject)
              ? ["vault", "gateway"]
              : subject.startsWith("v1.vault.")
                ? ["vault"]
                : [];
            expected.push(`${user} listen ${subject}: ${listeners.includes(user) ? "allowed" : "denied"}`);
            checks.push(
              trySubscribe(nc, absolute(subject)).then(
                (r) => void seen.push(`${user} listen ${subject}: ${r}`),
              ),
            );
            if (user !== "vault") {
              expected.push(`${user} publish ${subject}: denied`);
              checks.push(
                tryPublish(nc, user, absolute(subject)).then(
                  (r) => void seen.push(`${user} publish ${subject}: ${r}`),
                ),
              );
            }
          }
          // Nobody but the audit service reads the stream; nobody at all deletes or purges it.
          for (const api of ["STREAM.DELETE", "STREAM.PURGE", "STREAM.MSG.DELETE"]) {
            expected.push(`${user} ${api}: denied`);
            checks.push(
              tryRequest(nc, `$JS.API.${api}.SECRETS_AUDIT`).then(
                (r) => void seen.push(`${user} ${api}: ${r}`),
              ),
            );
          }
          expected.push(`${user} read the audit stream: ${user === "audit" ? "allowed" : "denied"}`);
          checks.push(
            tryRequest(nc, "$JS.API.CONSUMER.MSG.NEXT.SECRETS_AUDIT.audit-shipper").then(
              (r) => void seen.push(`${user} read the audit stream: ${r}`),
            ),
          );
          // Each listens only to its own replies.
          for (const other of users) {
            expected.push(`${user} replies of ${other}: ${other === user ? "allowed" : "denied"}`);
            checks.push(
              trySubscribe(nc, `_INBOX_${other}.>`).then(
                (r) => void seen.push(`${user} replies of ${other}: ${r}`),
              ),
            );
          }
          await Promise.all(checks);
        }),
      );
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
    }
    expect(seen.sort()).toEqual(expected.sort());
  });
});
