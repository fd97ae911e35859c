/**
 * From measurements to what a reader sees: the rows (each figure with its baseline and the ratio), the
 * five targets of issue 10, and both as Markdown tables (pasted into the README's Performance section).
 */
import type { BenchResults, ColdStartSummary, TableRow, TargetCheck } from "./results.ts";
import type { LoadSummary } from "./stats.ts";

export type Measurements = Omit<BenchResults, "rows" | "targets">;

const ratio = (value: number, baseline: number | null) =>
  baseline === null || baseline === 0 ? null : Math.round((value / baseline) * 100) / 100;
const ms = (value: number) => Math.round(value * 100) / 100;

function row(
  figure: string,
  value: number,
  unit: string,
  baseline = "",
  baselineValue: number | null = null,
): TableRow {
  return {
    figure,
    value: ms(value),
    unit,
    baseline,
    baselineValue: baselineValue === null ? null : ms(baselineValue),
    ratio: ratio(value, baselineValue),
  };
}

function at(record: Record<string, LoadSummary>, concurrency: number): LoadSummary {
  const summary = record[String(concurrency)];
  if (!summary) throw new Error(`No measurement at concurrency ${concurrency}`);
  return summary;
}

export function buildRows(m: Measurements, concurrencies: readonly number[]): TableRow[] {
  const { baselines: b, figures: f } = m;
  const nats = b.natsRoundTrip;
  const echo1 = at(b.echo, 1);
  const rows: TableRow[] = [
    row("B: NATS request-reply, c=1, p50", nats.p50Ms, "ms"),
    row("B: NATS request-reply, c=1, throughput", nats.throughput, "/s"),
  ];
  for (const c of concurrencies) {
    const echo = at(b.echo, c);
    rows.push(row(`A: echo gRPC, c=${c}, throughput`, echo.throughput, "/s"));
    rows.push(row(`A: echo gRPC, c=${c}, p50`, echo.p50Ms, "ms"));
    rows.push(row(`A: echo gRPC, c=${c}, p99`, echo.p99Ms, "ms"));
  }
  for (const c of concurrencies) {
    const get = at(f.getSecret, c);
    const echo = at(b.echo, c);
    rows.push(row(`GetSecret, c=${c}, throughput`, get.throughput, "/s", `A c=${c}`, echo.throughput));
    rows.push(row(`GetSecret, c=${c}, p50`, get.p50Ms, "ms", `A c=${c}`, echo.p50Ms));
    rows.push(row(`GetSecret, c=${c}, p99`, get.p99Ms, "ms", `A c=${c}`, echo.p99Ms));
  }
  const busCall = echo1.p50Ms + nats.p50Ms;
  const batch = f.getSecretsBatch;
  rows.push(
    row(`GetSecrets (${batch.secrets} secrets), c=1, p50`, batch.p50Ms, "ms", "A p50 + B p50", busCall),
  );
  rows.push(
    row(
      `GetSecrets (${batch.secrets} secrets), c=1, p99`,
      batch.p99Ms,
      "ms",
      "A p99 + B p99",
      echo1.p99Ms + nats.p99Ms,
    ),
  );
  rows.push(
    row("RegisterToken (known token), c=1, p50", f.registerToken.p50Ms, "ms", "A p50 + B p50", busCall),
  );
  rows.push(
    row(
      "RegisterToken (known token), c=1, p99",
      f.registerToken.p99Ms,
      "ms",
      "A p99 + B p99",
      echo1.p99Ms + nats.p99Ms,
    ),
  );
  const http = b.httpEcho;
  rows.push(
    row(
      `GET /secrets (${f.listSecrets.secrets} secrets, first page), p50`,
      f.listSecrets.p50Ms,
      "ms",
      "bare HTTP p50 + B p50",
      http.p50Ms + nats.p50Ms,
    ),
  );
  rows.push(
    row(
      `GET /secrets (${f.listSecrets.secrets} secrets, first page), p99`,
      f.listSecrets.p99Ms,
      "ms",
      "bare HTTP p99 + B p99",
      http.p99Ms + nats.p99Ms,
    ),
  );
  rows.push(
    row(
      `GET /secrets?q= (search ${f.searchSecrets.secrets}), p50`,
      f.searchSecrets.p50Ms,
      "ms",
      "bare HTTP p50 + B p50",
      http.p50Ms + nats.p50Ms,
    ),
  );
  const cold = (
    label: string,
    key: keyof Pick<ColdStartSummary, "totalMs" | "workMs" | "importMs">,
    base: string,
  ) => row(label, f.sdkColdStart[key], "ms", base, b.grpcColdStart[key]);
  rows.push(
    cold("SDK cold start, 20 secrets: client work (token, TLS, calls)", "workMs", "grpc-js: 1 echo call"),
  );
  rows.push(cold("SDK cold start: loading the SDK and grpc-js", "importMs", "grpc-js alone"));
  rows.push(cold("SDK cold start: process start → 20 values", "totalMs", "grpc-js: start → 1 echo call"));
  const memory = f.vaultMemory;
  rows.push(
    row(
      `Vault RSS, ${memory.secrets} secrets`,
      memory.rssMb,
      "MB",
      "idle vault, empty database",
      memory.idleRssMb,
    ),
  );
  rows.push(
    row(
      `Vault peak RSS, ${memory.secrets} secrets`,
      memory.peakRssMb,
      "MB",
      "idle vault, empty database",
      memory.idleRssMb,
    ),
  );
  return rows;
}

function target(
  name: string,
  measured: number,
  comparison: TargetCheck["comparison"],
  limit: number,
  unit: string,
): TargetCheck {
  const met =
    comparison === "<" ? measured < limit : comparison === "<=" ? measured <= limit : measured >= limit;
  return { target: name, measured: ms(measured), comparison, limit: ms(limit), unit, met };
}

export function buildTargets(m: Measurements): TargetCheck[] {
  const { baselines: b, figures: f } = m;
  const get64 = at(f.getSecret, 64);
  const echo64 = at(b.echo, 64);
  const echo1 = at(b.echo, 1);
  return [
    target(
      "GetSecret throughput at c=64 / echo's",
      echo64.throughput ? get64.throughput / echo64.throughput : 0,
      ">=",
      0.5,
      "×",
    ),
    target(
      "GetSecret p50 at c=1 ≤ echo p50 + NATS p50 + 0.5 ms",
      at(f.getSecret, 1).p50Ms,
      "<=",
      echo1.p50Ms + b.natsRoundTrip.p50Ms + 0.5,
      "ms",
    ),
    target(`GET /secrets p50 with ${f.listSecrets.secrets} secrets`, f.listSecrets.p50Ms, "<", 100, "ms"),
    target("SDK cold start, 20 secrets (client work after start)", f.sdkColdStart.workMs, "<", 50, "ms"),
    target(`Vault RSS with ${f.vaultMemory.secrets} secrets`, f.vaultMemory.rssMb, "<", 200, "MB"),
  ];
}

const cell = (value: number | null, unit = "") => (value === null ? "" : `${value}${unit ? ` ${unit}` : ""}`);

export function renderRows(rows: readonly TableRow[]): string {
  const lines = [
    "| Figure | Value | Baseline | Baseline value | Ratio |",
    "| --- | ---: | --- | ---: | ---: |",
  ];
  for (const r of rows)
    lines.push(
      `| ${r.figure} | ${cell(r.value, r.unit)} | ${r.baseline} | ${cell(r.baselineValue, r.baselineValue === null ? "" : r.unit)} | ${r.ratio === null ? "" : `${r.ratio}×`} |`,
    );
  return lines.join("\n");
}

export function renderTargets(targets: readonly TargetCheck[]): string {
  const lines = ["| Target | Measured | Limit | Met |", "| --- | ---: | ---: | :---: |"];
  for (const t of targets)
    lines.push(
      `| ${t.target} | ${t.measured} ${t.unit} | ${t.comparison} ${t.limit} ${t.unit} | ${t.met ? "yes" : "**no**"} |`,
    );
  return lines.join("\n");
}

export function renderCpu(m: Measurements): string {
  const { cpu } = m;
  const total = (shares: { msPerCall: number }[]) =>
    Math.round(shares.reduce((sum, s) => sum + s.msPerCall, 0) * 1000) / 1000;
  const lines = [
    `| CPU per call at c=${cpu.concurrency} (ms) | GetSecret | Echo (A) |`,
    "| --- | ---: | ---: |",
  ];
  const names = [...new Set([...cpu.getSecret, ...cpu.echo].map((s) => s.process))];
  const of = (shares: { process: string; msPerCall: number }[], name: string) =>
    shares.find((s) => s.process === name)?.msPerCall;
  for (const name of names)
    lines.push(`| ${name} | ${of(cpu.getSecret, name) ?? ""} | ${of(cpu.echo, name) ?? ""} |`);
  lines.push(`| **total** | **${total(cpu.getSecret)}** | **${total(cpu.echo)}** |`);
  return lines.join("\n");
}

export function renderMachine(m: Measurements): string {
  const { machine } = m;
  return `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB RAM, ${machine.os}; Bun ${machine.bun}, nats-server ${machine.natsServer}, ${machine.postgres}; ${m.gateways} gateway(s)${
    Object.keys(m.vaultEnv).length > 0
      ? `; vault with ${Object.entries(m.vaultEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`
      : ""
  }${m.quick ? " — QUICK RUN: figures not meaningful" : ""}`;
}
