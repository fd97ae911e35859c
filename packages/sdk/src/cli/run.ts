/**
 * The `secrets` command: parses arguments, runs one command, returns the exit code (0 success, 1 a
 * problem it reported, 2 wrong usage).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { checkServiceName } from "@secrets/validation";
import { createAdminClient } from "./admin-client.ts";
import { runAuditVerify } from "./audit-verify.ts";
import { CliError, UsageError } from "./cli-error.ts";
import { runImportEnv } from "./import-env.ts";
import type { CliIo } from "./io.ts";
import { runKeys } from "./keys.ts";
import { runCheck, runCombine, runGenerate } from "./schema-commands.ts";

export const usage = `Usage: secrets <command> [arguments]

Commands:
  generate [dir] [--combined]   Write <dir>/secrets.ts (SecretsSchema and secretsSchema) from
                                <dir>/secrets.schema.json, or from secrets.schema.combined.json
  combine [dir]                 Write <dir>/secrets.schema.combined.json: the package's secrets and
                                those of its workspace dependencies, recursively
  check [dir]                   Validate the package's schemas and its dependencies'; flag a combined
                                schema or secrets.ts that is out of date
  import-env <file|-> --service <name> [--grant] [--dry-run] [--url <url>] [--token <token>]
                                Create or update each secret of a .env file through the admin API,
                                optionally granting the service access; --dry-run changes nothing
  keys status | keys rotate [--url <url>] [--token <token>]
                                Show the encryption key's rotation, or rotate it now; older values
                                are re-encrypted in the background
  audit verify <file|-> --public-key <file> [--any-order]
                                Check an exported audit trail (file sink, journal, or Loki lines)
                                against audit-signing.pub: every modified, missing, inserted or
                                reordered event and bad digest, with positions; exit 1 if any.
                                --any-order for a Loki export (time order, not chain order)
  help                          Show this text

[dir] defaults to the current folder.
import-env and keys read the admin API's URL from --url or SECRETS_ADMIN_URL, and the admin token from
SECRETS_ADMIN_TOKEN (or --token, which other users of the machine can see in the process list).`;

function parse(args: string[], options: ParseArgsConfig["options"] = {}) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function oneDirectory(positionals: string[], command: string): string | undefined {
  if (positionals.length > 1) throw new UsageError(`${command} takes at most one folder`);
  return positionals[0];
}

/** The admin API's URL and token from the flags or the environment; usage errors name what is missing. */
function adminTarget(
  io: CliIo,
  command: string,
  values: Record<string, unknown>,
): { url: string; token: string } {
  const url = (typeof values.url === "string" ? values.url : "") || io.env.SECRETS_ADMIN_URL || "";
  const token = (typeof values.token === "string" ? values.token : "") || io.env.SECRETS_ADMIN_TOKEN || "";
  if (!url) throw new UsageError(`${command} needs the admin API's URL: --url or SECRETS_ADMIN_URL`);
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL (got "${url}")`);
  if (!token) throw new UsageError(`${command} needs an admin token: SECRETS_ADMIN_TOKEN (or --token)`);
  return { url, token };
}

async function keys(io: CliIo, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { url: { type: "string" }, token: { type: "string" } });
  const action = positionals[0];
  if ((action !== "status" && action !== "rotate") || positionals.length > 1) {
    throw new UsageError("keys takes one action: status or rotate");
  }
  const { url, token } = adminTarget(io, "keys", values);
  await runKeys(io, createAdminClient(io, url, token), action);
}

async function audit(io: CliIo, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    "public-key": { type: "string" },
    "any-order": { type: "boolean" },
  });
  const [action, file] = positionals;
  if (action !== "verify" || !file || positionals.length > 2) {
    throw new UsageError("audit takes: verify <file|-> --public-key <file>");
  }
  const publicKeyFile = typeof values["public-key"] === "string" ? values["public-key"] : "";
  if (!publicKeyFile)
    throw new UsageError("audit verify needs --public-key <file> (the audit service's audit-signing.pub)");
  return runAuditVerify(io, { file, publicKeyFile, ordered: values["any-order"] !== true });
}

async function importEnv(io: CliIo, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    service: { type: "string" },
    grant: { type: "boolean" },
    "dry-run": { type: "boolean" },
    url: { type: "string" },
    token: { type: "string" },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new UsageError("import-env takes one .env file (or - for standard input)");
  const service = typeof values.service === "string" ? values.service : "";
  if (!service)
    throw new UsageError("import-env needs --service <name>: the service whose environment this is");
  const problems = checkServiceName(service, "--service");
  if (problems.length > 0) throw new UsageError(`--service ${problems.map((p) => p.description).join("; ")}`);
  const { url, token } = adminTarget(io, "import-env", values);
  await runImportEnv(io, {
    file,
    service,
    grant: values.grant === true,
    dryRun: values["dry-run"] === true,
    url,
    token,
  });
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "generate": {
        const { values, positionals } = parse(args, { combined: { type: "boolean" } });
        runGenerate(io, oneDirectory(positionals, "generate"), values.combined === true);
        return 0;
      }
      case "combine":
        runCombine(io, oneDirectory(parse(args).positionals, "combine"));
        return 0;
      case "check":
        runCheck(io, oneDirectory(parse(args).positionals, "check"));
        return 0;
      case "import-env":
        await importEnv(io, args);
        return 0;
      case "keys":
        await keys(io, args);
        return 0;
      case "audit":
        return await audit(io, args);
      case "help":
      case "--help":
      case "-h":
        io.stdout(usage);
        return 0;
      case undefined:
        throw new UsageError("no command given");
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`secrets: ${error.message}`);
      io.stderr("");
      io.stderr(usage);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.stderr(`secrets: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
