/**
 * What the measurements need in the vault: approved service tokens, secrets with values and granted access
 * requests (all through the gateway and the admin API, as in production), and bulk secrets written straight
 * into the database for the list and memory figures.
 */
import { generateServiceToken } from "@secrets/sdk";
import { adminHttpClient } from "@secrets/test/support/admin-http";
import { secretsClient } from "@secrets/test/support/grpc-client";
import { newServiceToken } from "@secrets/test/support/tokens";
import { openDatabase } from "../services/vault/src/db/connection.ts";
import { loadOrCreateKeyring } from "../services/vault/src/keyring/index.ts";
import { seedSecrets } from "../services/vault/src/rotation/seed-secrets.ts";
import type { BenchStack } from "./stack.ts";

export type Admin = ReturnType<ReturnType<typeof adminHttpClient>["as"]>;

export function adminOf(stack: BenchStack): Admin {
  return adminHttpClient(stack.adminUrl).as({ token: stack.adminToken });
}

function expectStatus(what: string, outcome: { status: number; text: string }, ...accepted: number[]): void {
  if (!accepted.includes(outcome.status)) throw new Error(`${what}: HTTP ${outcome.status} ${outcome.text}`);
}

/** Registers `token` for `serviceName` through the gateway and approves it through the admin API. */
export async function approveToken(stack: BenchStack, admin: Admin, serviceName: string, token: string) {
  const gateway = stack.gateways[0];
  if (!gateway) throw new Error("No gateway runs");
  const client = secretsClient(gateway.address, stack.caFile);
  try {
    const registered = await client.registerToken(serviceName, token, "bench");
    if (!registered.ok)
      throw new Error(`RegisterToken for ${serviceName}: ${registered.code} ${registered.details}`);
  } finally {
    client.close();
  }
  const pending = (await admin.listServiceTokens("pending")).json.serviceTokens as {
    id: string;
    serviceName: string;
  }[];
  const row = pending.find((candidate) => candidate.serviceName === serviceName);
  if (!row) throw new Error(`No pending token for ${serviceName}`);
  expectStatus(`approving the token of ${serviceName}`, await admin.approveToken(row.id), 200);
}

/** A new approved token for `serviceName`. */
export async function approvedToken(stack: BenchStack, admin: Admin, serviceName: string): Promise<string> {
  const token = newServiceToken();
  await approveToken(stack, admin, serviceName, token);
  return token;
}

/** An approved token stored in `dataDir` as the SDK keeps it, so a new SDK process starts with it. */
export async function approvedSdkToken(
  stack: BenchStack,
  admin: Admin,
  serviceName: string,
  dataDir: string,
): Promise<string> {
  const { token } = generateServiceToken({ dataDir, serviceName });
  await approveToken(stack, admin, serviceName, token);
  return token;
}

/** Creates secrets with values and grants `serviceName` access to each. */
export async function grantedSecrets(
  admin: Admin,
  serviceName: string,
  secrets: { name: string; description: string; value: string }[],
): Promise<void> {
  for (const secret of secrets) {
    expectStatus(`creating ${secret.name}`, await admin.putSecret(secret), 200, 201);
    expectStatus(`granting ${secret.name}`, await admin.grantAccess(secret.name, serviceName), 200, 201);
  }
}

/**
 * Writes `count` secrets (`<prefix>_000000`...) with values straight into the database, under the vault's
 * current key: what an import of an existing estate leaves behind, in seconds instead of minutes.
 */
export async function seedBulkSecrets(stack: BenchStack, prefix: string, count: number): Promise<void> {
  const opened = await openDatabase({
    databaseUrl: stack.databaseUrl,
    dataDir: stack.vaultDataDir,
    maxConnections: 2,
  });
  try {
    const keyring = await loadOrCreateKeyring({ dataDir: stack.vaultDataDir });
    await seedSecrets(opened.db, keyring, {
      count,
      prefix,
      valueOf: (i) => `bulk-value-${i}-${"v".repeat(24)}`,
    });
  } finally {
    await opened.close();
  }
}

/** Resident and peak resident memory of a process, in MB (Linux `/proc`). */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakRssMb: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb("VmRSS") / 102.4) / 10, peakRssMb: Math.round(kb("VmHWM") / 102.4) / 10 };
}
