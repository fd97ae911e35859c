/**
 * Admin tokens, managed by an operator with access to the vault's database:
 *
 *   bun run admin:token create --name alice     prints a new token once; only its hash is stored
 *   bun run admin:token list                    names, ids, dates; never a token
 *   bun run admin:token revoke --name alice     (or --id <id>) revokes and ends its sessions
 *
 * Reads DATABASE_URL and SECRETS_DATA_DIR like the vault. Each change is audited through the outbox,
 * which a running vault publishes to the audit stream.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { AuditEventName, type AuditEventName as EventName } from "@secrets/bus";
import { parseConfigOrExit } from "@secrets/config";
import { AuditEvent } from "@secrets/proto/audit";
import { createAdminAuthDal } from "../admin-auth/admin-auth-dal.ts";
import { generateAdminToken } from "../admin-auth/admin-tokens.ts";
import { createAuditOutboxDal } from "../audit/audit-outbox-dal.ts";
import { vaultConfigSpec } from "../config.ts";
import { openDatabase } from "../db/connection.ts";
import { hashToken } from "../service-tokens/token-hash.ts";

const usage = `Usage:
  bun run admin:token create --name <name>
  bun run admin:token list
  bun run admin:token revoke --name <name> | --id <id>`;

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: { name: { type: "string" }, id: { type: "string" } },
  strict: true,
});
const command = positionals[0];
if (!command || !["create", "list", "revoke"].includes(command))
  fail("Say what to do: create, list or revoke.");
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
if (values.name !== undefined && !namePattern.test(values.name)) {
  fail(`--name must match ${namePattern.source}`);
}

const config = parseConfigOrExit(vaultConfigSpec, process.env);
const database = await openDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  maxConnections: 1,
});
const dal = createAdminAuthDal({ db: database.db });
const outbox = createAuditOutboxDal({ db: database.db });
const actor = `cli:${userInfo().username}`;

async function audit(event: EventName, name: string, targetId: string): Promise<void> {
  const message = AuditEvent.fromPartial({
    id: Bun.randomUUIDv7(),
    timestampMs: Date.now(),
    level: "info",
    event,
    success: true,
    actor,
    targetId,
    subject: name,
  });
  await outbox.insert({ id: message.id, event: AuditEvent.encode(message).finish() });
}

try {
  if (command === "create") {
    if (!values.name) fail("create needs --name");
    const token = generateAdminToken();
    const row = await dal.insertToken({
      id: Bun.randomUUIDv7(),
      name: values.name,
      tokenHash: hashToken(token),
    });
    await audit(AuditEventName.adminTokenCreate, row.name, row.id);
    console.log(
      `Created an admin token for ${row.name} (id ${row.id}). It is shown once; store it now:\n\n${token}\n`,
    );
  } else if (command === "list") {
    for (const row of await dal.listTokens()) {
      const state = row.revokedAt ? `revoked ${row.revokedAt.toISOString()}` : "active";
      const used = row.lastUsedAt ? row.lastUsedAt.toISOString() : "never";
      console.log(
        `${row.id}  ${row.name}  created ${row.createdAt.toISOString()}  ${state}  last used ${used}`,
      );
    }
  } else {
    const match = values.id
      ? { id: values.id }
      : values.name
        ? { name: values.name }
        : fail("revoke needs --name or --id");
    const revoked = await dal.revokeTokens(match);
    for (const row of revoked) await audit(AuditEventName.adminTokenRevoke, row.name, row.id);
    if (revoked.length === 0) {
      console.error("No active admin token matches.");
      process.exitCode = 1;
    } else console.log(`Revoked ${revoked.length} admin token(s): ${revoked.map((r) => r.name).join(", ")}`);
  }
} finally {
  await database.close();
}
