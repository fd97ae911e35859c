/**
 * The results of one run, as written to JSON (`schema: "secrets-bench/1"`), and the check that a file
 * is well formed (used by the harness's own test). Every figure is measured in the same run as its
 * baseline, so ratios compare like with like on a noisy machine.
 */
import type { LoadSummary } from "./stats.ts";
import type { ColdStartResult } from "./workers/sdk-cold-start.ts";

export const resultsSchema = "secrets-bench/1";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  bun: string;
  natsServer: string;
  postgres: string;
}

/** Repeated cold starts: medians, and every run. */
export interface ColdStartSummary {
  runs: number;
  bootMs: number;
  importMs: number;
  workMs: number;
  totalMs: number;
  samples: ColdStartResult[];
}

export interface MemoryFigure {
  secrets: number;
  /** The vault's resident memory right after it started, with an empty database. */
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
}

/** Fail-closed audit, checked: every audited call's event is in the stream and reached Loki. */
export interface AuditCheck {
  /** Events the load generators' calls must have produced (one per GetSecret or RegisterToken call, one
   *  per secret of a batch), at least. */
  expectedAtLeast: number;
  /** Events the audit stream stored during the run (admin events included). */
  stored: number;
  /** Entries Loki received from the audit service by the end of the run. */
  shipped: number;
  complete: boolean;
}

/** CPU per call of each process while the highest concurrency ran (see `cpu.ts`). */
export interface CpuProfile {
  concurrency: number;
  echo: { process: string; msPerCall: number }[];
  getSecret: { process: string; msPerCall: number }[];
}

export interface TableRow {
  figure: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number | null;
  /** value / baselineValue. */
  ratio: number | null;
}

export interface TargetCheck {
  target: string;
  measured: number;
  limit: number;
  unit: string;
  comparison: "<" | "<=" | ">=";
  met: boolean;
}

export interface BenchResults {
  schema: typeof resultsSchema;
  startedAt: string;
  wallSeconds: number;
  quick: boolean;
  gateways: number;
  /** Vault settings given with `--vault-env`. */
  vaultEnv: Record<string, string>;
  machine: Machine;
  baselines: {
    natsRoundTrip: LoadSummary;
    /** By concurrency. */
    echo: Record<string, LoadSummary>;
    httpEcho: LoadSummary;
    grpcColdStart: ColdStartSummary;
  };
  figures: {
    /** By concurrency. */
    getSecret: Record<string, LoadSummary>;
    /** GetSecrets of the cold start's secrets, one call at a time. */
    getSecretsBatch: LoadSummary & { secrets: number };
    registerToken: LoadSummary;
    listSecrets: LoadSummary & { secrets: number; bodyBytes: number };
    searchSecrets: LoadSummary & { secrets: number; bodyBytes: number };
    sdkColdStart: ColdStartSummary;
    vaultMemory: MemoryFigure;
  };
  audit: AuditCheck;
  cpu: CpuProfile;
  rows: TableRow[];
  targets: TargetCheck[];
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

function checkLoad(path: string, value: unknown, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${path} is missing`);
    return;
  }
  for (const key of ["count", "errors", "concurrency", "durationMs", "throughput", "p50Ms", "p99Ms"]) {
    if (!isNumber(value[key])) problems.push(`${path}.${key} is not a number`);
  }
  if (isNumber(value.count) && value.count < 1) problems.push(`${path} measured no successful call`);
  if (isNumber(value.errors) && value.errors > 0)
    problems.push(`${path} had ${value.errors} failed calls: ${JSON.stringify(value.errorSamples)}`);
}

/** Problems with a results document; empty when it is well formed and every measurement succeeded. */
export function checkResults(value: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return ["the results are not an object"];
  if (value.schema !== resultsSchema) problems.push(`schema is ${JSON.stringify(value.schema)}`);
  const baselines = isObject(value.baselines) ? value.baselines : {};
  const figures = isObject(value.figures) ? value.figures : {};
  checkLoad("baselines.natsRoundTrip", baselines.natsRoundTrip, problems);
  checkLoad("baselines.httpEcho", baselines.httpEcho, problems);
  const echo = isObject(baselines.echo) ? baselines.echo : {};
  const getSecret = isObject(figures.getSecret) ? figures.getSecret : {};
  for (const concurrency of ["1", "16", "64"]) {
    checkLoad(`baselines.echo.${concurrency}`, echo[concurrency], problems);
    checkLoad(`figures.getSecret.${concurrency}`, getSecret[concurrency], problems);
  }
  for (const name of ["getSecretsBatch", "registerToken", "listSecrets", "searchSecrets"])
    checkLoad(`figures.${name}`, figures[name], problems);
  for (const [path, cold] of [
    ["baselines.grpcColdStart", baselines.grpcColdStart],
    ["figures.sdkColdStart", figures.sdkColdStart],
  ] as const) {
    if (
      !isObject(cold) ||
      !isNumber(cold.totalMs) ||
      !isNumber(cold.workMs) ||
      !isNumber(cold.runs) ||
      cold.runs < 1
    )
      problems.push(`${path} is incomplete`);
  }
  const memory = figures.vaultMemory;
  if (
    !isObject(memory) ||
    !isNumber(memory.rssMb) ||
    !isNumber(memory.idleRssMb) ||
    !isNumber(memory.secrets)
  )
    problems.push("figures.vaultMemory is incomplete");
  const audit = value.audit;
  if (!isObject(audit) || audit.complete !== true)
    problems.push(`audit is incomplete: ${JSON.stringify(audit)}`);
  const cpu = value.cpu;
  if (
    !isObject(cpu) ||
    !Array.isArray(cpu.getSecret) ||
    cpu.getSecret.length === 0 ||
    !Array.isArray(cpu.echo)
  )
    problems.push("cpu is incomplete");
  if (!Array.isArray(value.rows) || value.rows.length === 0) problems.push("rows are missing");
  else
    for (const row of value.rows as unknown[])
      if (!isObject(row) || typeof row.figure !== "string" || !isNumber(row.value))
        problems.push(`malformed row ${JSON.stringify(row)}`);
  if (!Array.isArray(value.targets) || value.targets.length !== 5)
    problems.push("the five targets are missing");
  else
    for (const target of value.targets as unknown[])
      if (!isObject(target) || typeof target.met !== "boolean" || !isNumber(target.measured))
        problems.push(`malformed target ${JSON.stringify(target)}`);
  return problems;
}
