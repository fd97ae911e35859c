/**
 * The distributed stack for end-to-end tests: a fresh PostgreSQL database, a unique bus namespace on
 * the shared NATS server (or a given one), and the services as real processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bus, connectNatsBus, type NatsTlsFiles } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { connect } from "nats";
import { deleteAuditStream } from "./audit-stream.ts";
import { freePort, uniqueNamespace } from "./nats-server.ts";
import { createTestDatabase } from "./postgres.ts";
import { type ServiceProcess, startService } from "./processes.ts";
import { testAdmin } from "./tokens.ts";

export interface Stack {
  natsUrl: string;
  namespace: string;
  databaseUrl: string;
  /** The vault's data directory (its key files), shared by every vault this stack starts. */
  vaultDataDir: string;
  /** A bus connection for the test itself (admin operations, checks). */
  bus: Bus;
  /** A fresh temporary directory, removed by `dispose`. */
  tempDir(prefix: string): string;
  /** Environment shared by every service of this stack. */
  env(extra?: Record<string, string>): Record<string, string>;
  startVault(extra?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * Starts an audit service (`services/audit/src/main.ts`) with its own data directory unless `extra`
   * sets SECRETS_DATA_DIR; `extra` usually sets LOKI_URL.
   */
  startAudit(extra?: Record<string, string>): Promise<ServiceProcess>;
  /** Every log line of every process this stack started, stopped ones included. */
  logLines(): string[];
  /**
   * Starts a gateway on a free port; its TLS material is generated into its own data directory. `extra`
   * may set GRPC_PORT and SECRETS_DATA_DIR to restart a stopped gateway in place.
   */
  startGateway(
    extra?: Record<string, string>,
  ): Promise<{ process: ServiceProcess; address: string; caFile: string; port: number }>;
  /** Starts the admin API on a free port (plain HTTP, so its cookie is not Secure); `url` is its origin. */
  startAdminApi(
    extra?: Record<string, string>,
  ): Promise<{ process: ServiceProcess; url: string; port: number }>;
  dispose(): Promise<void>;
}

/**
 * `natsUrl` and `natsTls` name another NATS server than the shared one, and the TLS files every process
 * of the stack (the test's own connections included) connects to it with.
 */
export async function createStack(
  options: { natsUrl?: string; natsTls?: NatsTlsFiles } = {},
): Promise<Stack> {
  const natsUrl = options.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const tls = options.natsTls;
  const tlsEnv: Record<string, string> = tls
    ? {
        NATS_TLS_CA_FILE: tls.caFile,
        ...(tls.certFile ? { NATS_TLS_CERT_FILE: tls.certFile } : {}),
        ...(tls.keyFile ? { NATS_TLS_KEY_FILE: tls.keyFile } : {}),
      }
    : {};
  const namespace = uniqueNamespace("e2e");
  const database = await createTestDatabase();
  const bus = await connectNatsBus({
    url: natsUrl,
    namespace,
    logger: silentLogger,
    name: "e2e-test",
    ...(tls ? { tls } : {}),
  });
  const dirs: string[] = [];
  const processes: ServiceProcess[] = [];
  const vaultDataDir = mkdtempSync(join(tmpdir(), "e2e-vault-"));
  dirs.push(vaultDataDir);

  const stack: Stack = {
    natsUrl,
    namespace,
    databaseUrl: database.url,
    vaultDataDir,
    bus,
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    logLines: () => processes.flatMap((p) => p.lines),
    env: (extra = {}) => ({
      NATS_URL: natsUrl,
      BUS_NAMESPACE: namespace,
      LOG_LEVEL: "info",
      ...tlsEnv,
      ...extra,
    }),
    async startVault(extra = {}) {
      const vault = await startService("vault", "services/vault/src/main.ts", {
        env: stack.env({
          DATABASE_URL: database.url,
          SECRETS_DATA_DIR: vaultDataDir,
          // The admin tests act as on the bus (`adminBusClient`), unless the test brings its own.
          ...(extra.ADMIN_BOOTSTRAP_TOKEN
            ? {}
            : { ADMIN_BOOTSTRAP_TOKEN: testAdmin.token, ADMIN_BOOTSTRAP_NAME: testAdmin.name }),
          ...extra,
        }),
        readyLog: "vault ready",
      });
      processes.push(vault);
      return vault;
    },
    async startAudit(extra = {}) {
      const audit = await startService("audit", "services/audit/src/main.ts", {
        env: stack.env({ SECRETS_DATA_DIR: stack.tempDir("e2e-audit-"), ...extra }),
        readyLog: "audit ready",
      });
      processes.push(audit);
      return audit;
    },
    async startGateway(extra = {}) {
      const port = extra.GRPC_PORT ? Number(extra.GRPC_PORT) : await freePort();
      const dataDir = extra.SECRETS_DATA_DIR ?? stack.tempDir("e2e-gateway-");
      const gateway = await startService("gateway-grpc", "services/gateway-grpc/src/main.ts", {
        env: stack.env({
          GRPC_PORT: String(port),
          GRPC_HOST: "127.0.0.1",
          SECRETS_DATA_DIR: dataDir,
          ...extra,
        }),
        readyLog: "gateway listening",
      });
      processes.push(gateway);
      return { process: gateway, address: `localhost:${port}`, caFile: join(dataDir, "tls", "ca.crt"), port };
    },
    async startAdminApi(extra = {}) {
      const port = await freePort();
      const adminApi = await startService("admin-api", "services/admin-api/src/main.ts", {
        env: stack.env({
          ADMIN_PORT: String(port),
          ADMIN_HOST: "127.0.0.1",
          ADMIN_COOKIE_SECURE: "false",
          ...extra,
        }),
        readyLog: "admin api listening",
      });
      processes.push(adminApi);
      return { process: adminApi, url: `http://127.0.0.1:${port}`, port };
    },
    async dispose() {
      if (process.env.E2E_SHOW_ERRORS)
        for (const line of stack.logLines()) if (/"level":"(error|warn)"/.test(line)) console.log(line);
      await Promise.all(processes.map((p) => p.stop()));
      await bus.close();
      await deleteAuditStream(natsUrl, namespace, tls);
      await deleteLeaseBucket(natsUrl, namespace, tls);
      await database.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Removes the namespace's lease bucket (`KV_<NS>_LEASES`), created by audit services. */
async function deleteLeaseBucket(natsUrl: string, namespace: string, tls?: NatsTlsFiles): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(","), ...(tls ? { tls } : {}) });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(`KV_${namespace.toUpperCase().replaceAll("-", "_")}_LEASES`).catch(() => false);
  } finally {
    await nc.close();
  }
}
