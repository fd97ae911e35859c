/**
 * The command line of `bun run bench` and how long each measurement runs.
 *
 *   bun run bench                      full run (about 3 minutes on 2 cores)
 *   bun run bench --quick              tiny counts and durations: proves the harness works (CI)
 *   bun run bench --gateways 3         three gateways behind the load generator
 *   bun run bench --out path.json      where the results go (default .artifacts/bench/results.json)
 *   bun run bench --vault-env VAULT_CACHE_TTL_MS=0   a vault setting, to compare one run with another
 *   bun run bench --cpu-prof DIR       the services write CPU profiles there when they stop
 */
import { join, resolve } from "node:path";

export interface BenchProfile {
  /** Load before each measured window, not counted. */
  warmupMs: number;
  /** Measured window of each load. */
  durationMs: number;
  /** Closed-loop concurrencies of GetSecret and of its echo baseline. */
  concurrencies: number[];
  /**
   * GetSecret and its echo baseline run this many times each at every concurrency, alternating, and each
   * figure merges its runs: background work on the machine then weighs on both sides of a ratio alike.
   */
  rounds: number;
  /** Measured window of each of those runs. */
  sliceMs: number;
  /** New processes started for the cold-start figures (the median is reported). */
  coldStarts: number;
  /** Secrets an SDK cold start reads. */
  coldStartKeys: number;
  /** Secrets in the vault for the `GET /secrets` figure. */
  listSecrets: number;
  /** Secrets in the vault for the memory figure. */
  memorySecrets: number;
}

export const fullProfile: BenchProfile = {
  warmupMs: 1_000,
  durationMs: 5_000,
  concurrencies: [1, 16, 64],
  rounds: 3,
  sliceMs: 2_000,
  coldStarts: 7,
  coldStartKeys: 20,
  listSecrets: 10_000,
  memorySecrets: 100_000,
};

/** Same shape of results as a full run, in a fraction of the time. */
export const quickProfile: BenchProfile = {
  warmupMs: 200,
  durationMs: 400,
  concurrencies: [1, 16, 64],
  rounds: 1,
  sliceMs: 400,
  coldStarts: 1,
  coldStartKeys: 20,
  listSecrets: 300,
  memorySecrets: 1_000,
};

export interface BenchOptions {
  quick: boolean;
  gateways: number;
  /** Extra environment of the vault process (`--vault-env NAME=VALUE`, repeatable). */
  vaultEnv: Record<string, string>;
  /** Where the services write CPU profiles (`--cpu-prof DIR`); none when unset. */
  cpuProfileDir: string | undefined;
  out: string;
  natsUrl: string;
  profile: BenchProfile;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const usage = `Usage: bun run bench [--quick] [--gateways N] [--out results.json] [--vault-env NAME=VALUE]
  --quick                 tiny counts and durations (checks that the harness works; figures are not meaningful)
  --gateways N            start N gateways (1-16) and spread the load generator's connections over them
  --out FILE              where the JSON results go (default .artifacts/bench/results.json)
  --vault-env NAME=VALUE  set a vault variable for this run (VAULT_CACHE_TTL_MS=0 turns its cache off)
  --cpu-prof DIR          the services write .cpuprofile files to DIR when they stop (profiling slows them;
                          read one with bun bench/profile/summarize-cpuprofile.ts FILE)
NATS_URL (default nats://127.0.0.1:4222) and TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
name the shared servers; the run uses its own bus namespace and database and removes them.`;

export function parseOptions(
  args: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): BenchOptions {
  let quick = false;
  let gateways = 1;
  const vaultEnv: Record<string, string> = {};
  let cpuProfileDir: string | undefined;
  let out = join(cwd, ".artifacts", "bench", "results.json");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--quick") quick = true;
    else if (arg === "--gateways") {
      const text = value();
      gateways = Number(text);
      if (!Number.isInteger(gateways) || gateways < 1 || gateways > 16)
        throw new UsageError(`--gateways must be an integer from 1 to 16, not "${text}"`);
    } else if (arg === "--out") out = resolve(cwd, value());
    else if (arg === "--cpu-prof") cpuProfileDir = resolve(cwd, value());
    else if (arg === "--vault-env") {
      const text = value();
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(text);
      if (!match?.[1]) throw new UsageError(`--vault-env takes NAME=VALUE, not "${text}"`);
      vaultEnv[match[1]] = match[2] ?? "";
    } else if (arg === "--help" || arg === "-h") throw new UsageError("");
    else throw new UsageError(`Unknown argument "${arg}"`);
  }
  return {
    quick,
    gateways,
    vaultEnv,
    cpuProfileDir,
    out,
    natsUrl: env.NATS_URL ?? "nats://127.0.0.1:4222",
    profile: quick ? quickProfile : fullProfile,
  };
}
