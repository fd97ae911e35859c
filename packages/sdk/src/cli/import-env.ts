/**
 * `secrets import-env`: moves a service's `.env` into the secrets manager through the admin API. The
 * whole file is checked before anything is sent; output names keys and what happened to them, never a
 * value.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkSecretName, checkValue } from "@secrets/validation";
import { type AdminClient, createAdminClient } from "./admin-client.ts";
import { CliError } from "./cli-error.ts";
import { type DotenvEntry, parseDotenv } from "./dotenv.ts";
import { type CliIo, displayPath } from "./io.ts";

export interface ImportEnvArguments {
  /** A path, or "-" for standard input. */
  file: string;
  service: string;
  grant: boolean;
  dryRun: boolean;
  url: string;
  token: string;
}

type Action = "create" | "set" | "update";

const planned: Record<Action, string> = {
  create: "would create",
  set: "would set the value of the missing secret",
  update: "would update (replacing its current value)",
};
const done: Record<Action, string> = { create: "created", set: "value set (was missing)", update: "updated" };

/** The text of a file named on the command line, or standard input for `-`. */
export async function readInput(io: CliIo, file: string): Promise<{ text: string; name: string }> {
  if (file === "-") return { text: await io.readStdin(), name: "<stdin>" };
  const path = resolve(io.cwd, file);
  try {
    return { text: readFileSync(path, "utf8"), name: displayPath(io, path) };
  } catch {
    throw new CliError(`${file}: cannot read the file`);
  }
}

/** The entries to import, or every problem (by line) when the file is not fit to import. */
function checkedEntries(
  io: CliIo,
  text: string,
  name: string,
): { entries: DotenvEntry[]; skipped: DotenvEntry[] } {
  const { entries, problems } = parseDotenv(text);
  const messages = problems.map((p) => ({ line: p.line, message: p.message }));
  for (const entry of entries) {
    for (const v of checkSecretName(entry.key)) {
      messages.push({
        line: entry.line,
        message: `${JSON.stringify(entry.key)} is not a valid secret name: it ${v.description}`,
      });
    }
    for (const v of checkValue(entry.value))
      messages.push({ line: entry.line, message: `${entry.key}: the value ${v.description}` });
  }
  if (messages.length > 0) {
    for (const m of messages.sort((a, b) => a.line - b.line)) io.stderr(`${name}:${m.line}: ${m.message}`);
    throw new CliError(
      `${name}: ${messages.length} problem${messages.length === 1 ? "" : "s"}; nothing was imported`,
    );
  }
  return { entries: entries.filter((e) => e.value !== ""), skipped: entries.filter((e) => e.value === "") };
}

async function apply(
  io: CliIo,
  admin: AdminClient,
  args: ImportEnvArguments,
  plan: { entry: DotenvEntry; action: Action }[],
) {
  const counts: Record<Action, number> = { create: 0, set: 0, update: 0 };
  let granted = 0;
  for (const [index, { entry, action }] of plan.entries()) {
    let line: string;
    try {
      const { created } = await admin.putSecret(entry.key, entry.value);
      const outcome: Action = created ? "create" : action === "create" ? "update" : action;
      counts[outcome]++;
      line = `${entry.key}: ${done[outcome]}`;
      if (args.grant) {
        const reply = await admin.grantAccess(entry.key, args.service);
        granted++;
        line += reply.created
          ? `; access granted to ${args.service}`
          : `; access of ${args.service} granted (an access request already existed)`;
      }
    } catch (error) {
      io.stdout(`${entry.key}: failed`);
      const left = plan.slice(index + 1).map((p) => p.entry.key);
      if (left.length > 0) io.stderr(`not attempted: ${left.join(", ")}`);
      throw error;
    }
    io.stdout(line);
  }
  const grantedNote = args.grant ? `; access granted to ${args.service} for ${granted}` : "";
  io.stdout(
    `imported ${plan.length} secrets: ${counts.create} created, ${counts.update + counts.set} updated${grantedNote}`,
  );
  if (!args.grant) {
    io.stdout(
      `service "${args.service}" asks for access when it first reads each secret; an admin approves it (or run again with --grant)`,
    );
  }
}

export async function runImportEnv(io: CliIo, args: ImportEnvArguments): Promise<void> {
  const input = await readInput(io, args.file);
  const { entries, skipped } = checkedEntries(io, input.text, input.name);
  const admin = createAdminClient(io, args.url, args.token);
  const existing = await admin.listSecrets();
  const plan = entries.map((entry) => {
    const known = existing.get(entry.key);
    const action: Action = !known ? "create" : known.hasValue ? "update" : "set";
    return { entry, action };
  });
  for (const entry of skipped) io.stdout(`${entry.key}: skipped (empty value)`);
  if (args.dryRun) {
    const grantNote = args.grant ? `; would grant access to ${args.service}` : "";
    for (const { entry, action } of plan) io.stdout(`${entry.key}: ${planned[action]}${grantNote}`);
    const creating = plan.filter((p) => p.action === "create").length;
    io.stdout(`dry run: ${creating} to create, ${plan.length - creating} to update; nothing was changed`);
    return;
  }
  await apply(io, admin, args, plan);
}
