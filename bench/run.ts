/**
 * `bun run bench`: starts the distributed stack (vault, gateways, admin API, audit) on the shared NATS and
 * PostgreSQL servers, measures it with load generators in separate processes against two bare baselines
 * measured in the same run (A: a grpc-js echo server with the same TLS; B: a NATS request-reply round
 * trip), prints the figures with their ratios and the targets of issue 10, and writes the results as JSON.
 * See `bench/README.md`; `--quick` runs everything with tiny counts and durations.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { connect } from "nats";
import { type CpuShare, type CpuUse, cpuDuring, natsServerPid, perCall, postgresBackendPids } from "./cpu.ts";
import {
  adminOf,
  approvedSdkToken,
  approvedToken,
  grantedSecrets,
  memoryOf,
  seedBulkSecrets,
} from "./fixtures.ts";
import { describeMachine } from "./machine.ts";
import { type BenchOptions, type BenchProfile, parseOptions, UsageError, usage } from "./options.ts";
import {
  buildRows,
  buildTargets,
  type Measurements,
  renderCpu,
  renderMachine,
  renderRows,
  renderTargets,
} from "./report.ts";
import { type AuditCheck, type BenchResults, type ColdStartSummary, resultsSchema } from "./results.ts";
import type { GrpcEchoSpec } from "./servers/grpc-echo.ts";
import type { HttpEchoSpec } from "./servers/http-echo.ts";
import type { NatsEchoSpec } from "./servers/nats-echo.ts";
import { type ChildServer, runWorker, startServer } from "./spawn.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";
import { type LoadSummary, median, mergeLoads } from "./stats.ts";
import type { GrpcColdStartSpec } from "./workers/grpc-cold-start.ts";
import type { GrpcLoadSpec } from "./workers/grpc-load.ts";
import type { HttpLoadSpec } from "./workers/http-load.ts";
import type { NatsLoadSpec } from "./workers/nats-load.ts";
import type { ColdStartResult, SdkColdStartSpec } from "./workers/sdk-cold-start.ts";

export type { BenchResults } from "./results.ts";

const began = performance.now();
const progress = (message: string) =>
  process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

/** About the size of a GetSecret request on the bus (name, token, request id, address, user agent). */
const busRequestBytes = 160;
const loadService = "bench-load";
const sdkService = "bench-sdk";
const loadSecret = "BENCH_SECRET";

const grpcLoad = (spec: GrpcLoadSpec) => runWorker<LoadSummary>("workers/grpc-load.ts", spec);
const httpLoad = (spec: HttpLoadSpec) =>
  runWorker<LoadSummary & { bodyBytes: number }>("workers/http-load.ts", spec);

function coldStartSummary(samples: ColdStartResult[]): ColdStartSummary {
  const of = (key: keyof ColdStartResult) => Math.round(median(samples.map((s) => s[key])) * 100) / 100;
  return {
    runs: samples.length,
    bootMs: of("bootMs"),
    importMs: of("importMs"),
    workMs: of("workMs"),
    totalMs: of("totalMs"),
    samples,
  };
}

async function auditStreamLastSeq(stack: BenchStack): Promise<number> {
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(`${stack.namespace.toUpperCase().replaceAll("-", "_")}_AUDIT`);
    return info.state.last_seq;
  } finally {
    await nc.close();
  }
}

/** Waits until Loki holds every event the stream stored (the audit service ships in order, in batches). */
async function checkAudit(
  stack: BenchStack,
  expectedAtLeast: number,
  timeoutMs: number,
): Promise<AuditCheck> {
  const deadline = Date.now() + timeoutMs;
  let stored = await auditStreamLastSeq(stack);
  while (Date.now() < deadline && stack.loki.entries().length < stored) {
    await Bun.sleep(250);
    stored = await auditStreamLastSeq(stack);
  }
  const shipped = stack.loki.entries().length;
  return { expectedAtLeast, stored, shipped, complete: stored >= expectedAtLeast && shipped >= stored };
}

async function measure(
  options: BenchOptions,
  stack: BenchStack,
  servers: ChildServer<unknown>[],
): Promise<Measurements> {
  const profile: BenchProfile = options.profile;
  const load = { warmupMs: profile.warmupMs, durationMs: profile.durationMs };
  const startedAt = new Date().toISOString();
  const idle = await memoryOf(stack.vault.pid);
  const gatewayAddresses = stack.gateways.map((gateway) => gateway.address);
  let audited = 0;

  progress("fixtures: approved tokens, granted secrets");
  const admin = adminOf(stack);
  const loadToken = await approvedToken(stack, admin, loadService);
  await grantedSecrets(admin, loadService, [
    { name: loadSecret, description: "bench", value: "v".repeat(32) },
  ]);
  const sdkDir = stack.tempDir("bench-sdk-");
  const sdkToken = await approvedSdkToken(stack, admin, sdkService, sdkDir);
  const coldKeys = Array.from(
    { length: profile.coldStartKeys },
    (_, i) => `COLD_${String(i).padStart(2, "0")}`,
  );
  await grantedSecrets(
    admin,
    sdkService,
    coldKeys.map((key) => ({ name: key, description: `bench secret ${key}`, value: `cold-value-${key}` })),
  );

  progress("baseline servers");
  const tls = join(stack.gatewayDataDir, "tls");
  const echoSpec: GrpcEchoSpec = { certFile: join(tls, "gateway.crt"), keyFile: join(tls, "gateway.key") };
  const echo = await startServer<{ port: number }>("servers/grpc-echo.ts", echoSpec);
  servers.push(echo);
  const echoAddress = `localhost:${echo.ready.port}`;
  const natsEchoSpec: NatsEchoSpec = { url: stack.natsUrl, subject: `${stack.namespace}.bench.echo` };
  servers.push(await startServer("servers/nats-echo.ts", natsEchoSpec));

  progress("B: NATS request-reply, c=1");
  const natsSpec: NatsLoadSpec = {
    url: stack.natsUrl,
    subject: natsEchoSpec.subject,
    payloadBytes: busRequestBytes,
    concurrency: 1,
    ...load,
  };
  const natsRoundTrip = await runWorker<LoadSummary>("workers/nats-load.ts", natsSpec);

  const echoByConcurrency: Record<string, LoadSummary> = {};
  const getSecret: Record<string, LoadSummary> = {};
  const grpcSpec = (targets: string[], concurrency: number): GrpcLoadSpec => ({
    targets,
    caFile: stack.caFile,
    method: "getSecret",
    token: loadToken,
    secretName: loadSecret,
    serviceName: loadService,
    concurrency,
    ...load,
  });
  const natsPid = natsServerPid(stack.natsUrl);
  const stackProcesses = async () => [
    { process: "gateway", pids: stack.gateways.map((gateway) => gateway.handle.pid) },
    { process: "vault", pids: [stack.vault.pid] },
    { process: "PostgreSQL (vault's connections)", pids: await postgresBackendPids(stack.databaseUrl) },
    { process: "nats-server", pids: natsPid === undefined ? [] : [natsPid] },
    { process: "audit", pids: [stack.audit.pid] },
  ];
  const loadGenerator = (summary: LoadSummary): CpuUse[] => [
    { process: "load generator", cpuMs: summary.cpuMs ?? 0 },
  ];
  const topConcurrency = Math.max(...profile.concurrencies);
  let echoCpu: CpuShare[] = [];
  let getSecretCpu: CpuShare[] = [];
  // Baseline and figure alternate, several times at each concurrency, and each merges its runs: whatever
  // else the machine does then weighs on both sides of a ratio alike.
  const slice = { warmupMs: profile.warmupMs, durationMs: profile.sliceMs, keepLatencies: true };
  for (const concurrency of profile.concurrencies) {
    const echoRuns: { summary: LoadSummary; use: CpuUse[]; calls: number }[] = [];
    const getRuns: { summary: LoadSummary; use: CpuUse[]; calls: number }[] = [];
    for (let round = 1; round <= profile.rounds; round++) {
      progress(`A: echo gRPC, c=${concurrency} (${round}/${profile.rounds})`);
      const echoRun = await cpuDuring(
        [
          { process: "echo server (A)", pids: [echo.pid] },
          { process: "nats-server", pids: natsPid === undefined ? [] : [natsPid] },
        ],
        () => grpcLoad({ ...grpcSpec([echoAddress], concurrency), ...slice }),
        loadGenerator,
      );
      echoRuns.push({ summary: echoRun.result, use: echoRun.use, calls: echoRun.result.totalCalls });
      progress(`GetSecret, c=${concurrency} (${round}/${profile.rounds})`);
      const run = await cpuDuring(
        await stackProcesses(),
        () => grpcLoad({ ...grpcSpec(gatewayAddresses, concurrency), ...slice }),
        loadGenerator,
      );
      getRuns.push({ summary: run.result, use: run.use, calls: run.result.totalCalls });
      audited += run.result.totalCalls;
    }
    echoByConcurrency[concurrency] = mergeLoads(echoRuns.map((r) => r.summary));
    getSecret[concurrency] = mergeLoads(getRuns.map((r) => r.summary));
    if (concurrency === topConcurrency) {
      echoCpu = perCall(echoRuns);
      getSecretCpu = perCall(getRuns);
    }
  }

  progress(`GetSecrets (${coldKeys.length} secrets), c=1`);
  const getSecretsBatch = await grpcLoad({
    ...grpcSpec(gatewayAddresses, 1),
    method: "getSecrets",
    token: sdkToken,
    serviceName: sdkService,
    secretNames: coldKeys,
  });
  audited += getSecretsBatch.totalCalls * coldKeys.length;

  progress("RegisterToken (known token), c=1");
  const registerToken = await grpcLoad({ ...grpcSpec(gatewayAddresses, 1), method: "registerToken" });
  audited += registerToken.totalCalls;

  progress(
    `cold starts: SDK reading ${coldKeys.length} secrets, and grpc-js alone (${profile.coldStarts} each)`,
  );
  const sdkSamples: ColdStartResult[] = [];
  const grpcSamples: ColdStartResult[] = [];
  const gateway = gatewayAddresses[0] ?? "";
  for (let run = 0; run < profile.coldStarts; run++) {
    const baselineSpec: GrpcColdStartSpec = { address: echoAddress, caFile: stack.caFile };
    grpcSamples.push(await runWorker<ColdStartResult>("workers/grpc-cold-start.ts", baselineSpec));
    const sdkSpec: SdkColdStartSpec = {
      address: gateway,
      caFile: stack.caFile,
      dataDir: sdkDir,
      serviceName: sdkService,
      keys: coldKeys,
    };
    const sample = await runWorker<ColdStartResult>("workers/sdk-cold-start.ts", sdkSpec);
    if (sample.values !== coldKeys.length) throw new Error(`An SDK cold start read ${sample.values} secrets`);
    sdkSamples.push(sample);
    audited += 1 + coldKeys.length;
  }

  progress(`seeding ${profile.listSecrets} secrets`);
  await seedBulkSecrets(stack, "BULK", profile.listSecrets);
  const listUrl = `${stack.adminUrl}/secrets`;
  const adminHeaders = { authorization: `Bearer ${stack.adminToken}` };
  const firstPage = await fetch(listUrl, { headers: adminHeaders });
  const pageBytes = (await firstPage.arrayBuffer()).byteLength;
  const httpEchoSpec: HttpEchoSpec = { bodyBytes: pageBytes };
  const httpEcho = await startServer<{ url: string }>("servers/http-echo.ts", httpEchoSpec);
  servers.push(httpEcho);
  progress("bare HTTP GET, c=1");
  const httpBaseline = await httpLoad({ url: httpEcho.ready.url, headers: {}, concurrency: 1, ...load });
  progress(`GET /secrets with ${profile.listSecrets} secrets, c=1`);
  const listSecrets = await httpLoad({ url: listUrl, headers: adminHeaders, concurrency: 1, ...load });
  progress(`GET /secrets?q=… with ${profile.listSecrets} secrets, c=1`);
  const searchSecrets = await httpLoad({
    url: `${listUrl}?q=bulk_00012`,
    headers: adminHeaders,
    concurrency: 1,
    ...load,
  });

  progress(`seeding up to ${profile.memorySecrets} secrets`);
  await seedBulkSecrets(stack, "MORE", profile.memorySecrets - profile.listSecrets);
  progress("reading every secret's page through the admin API, then the vault's memory");
  let cursor: string | null = null;
  do {
    const page: Response = await fetch(
      `${listUrl}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { headers: adminHeaders },
    );
    if (!page.ok) throw new Error(`Paging through the secrets: HTTP ${page.status}`);
    cursor = ((await page.json()) as { nextCursor: string | null }).nextCursor;
  } while (cursor);
  const memory = await memoryOf(stack.vault.pid);

  progress("audit: waiting for every event to reach Loki");
  const audit = await checkAudit(stack, audited, options.quick ? 30_000 : 60_000);
  return {
    schema: resultsSchema,
    startedAt,
    wallSeconds: 0,
    quick: options.quick,
    gateways: options.gateways,
    vaultEnv: options.vaultEnv,
    machine: await describeMachine(stack.natsUrl, stack.databaseUrl),
    baselines: {
      natsRoundTrip,
      echo: echoByConcurrency,
      httpEcho: httpBaseline,
      grpcColdStart: coldStartSummary(grpcSamples),
    },
    figures: {
      getSecret,
      getSecretsBatch: { ...getSecretsBatch, secrets: coldKeys.length },
      registerToken,
      listSecrets: { ...listSecrets, secrets: profile.listSecrets },
      searchSecrets: { ...searchSecrets, secrets: profile.listSecrets },
      sdkColdStart: coldStartSummary(sdkSamples),
      vaultMemory: {
        secrets: profile.memorySecrets,
        idleRssMb: idle.rssMb,
        rssMb: memory.rssMb,
        peakRssMb: memory.peakRssMb,
      },
    },
    audit,
    cpu: { concurrency: topConcurrency, echo: echoCpu, getSecret: getSecretCpu },
  };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) console.error(error.message);
    console.error(usage);
    return error.message ? 2 : 0;
  }
  if (options.cpuProfileDir) mkdirSync(options.cpuProfileDir, { recursive: true });
  progress(`starting the stack: vault, audit, admin API, ${options.gateways} gateway(s)`);
  const stack = await startBenchStack({
    natsUrl: options.natsUrl,
    gateways: options.gateways,
    vaultEnv: options.vaultEnv,
    cpuProfileDir: options.cpuProfileDir,
  });
  const servers: ChildServer<unknown>[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= Promise.all(servers.map((server) => server.stop())).then(() => stack.dispose());
    return cleaning;
  };
  const interrupted = () => void cleanUp().finally(() => process.exit(130));
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let measured: Measurements;
  try {
    measured = await measure(options, stack, servers);
  } catch (error) {
    console.error(error);
    for (const service of [stack.vault, ...stack.gateways.map((g) => g.handle)])
      console.error(`--- last lines of ${service.name}:\n${service.tail().slice(-4000)}`);
    await cleanUp();
    return 1;
  }
  progress("stopping the stack");
  await cleanUp();
  const results: BenchResults = {
    ...measured,
    wallSeconds: Math.round((performance.now() - began) / 100) / 10,
    rows: buildRows(measured, options.profile.concurrencies),
    targets: buildTargets(measured),
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\n${renderMachine(results)}\n\n${renderRows(results.rows)}\n\n${renderTargets(results.targets)}\n\n${renderCpu(results)}\n`,
  );
  const { audit } = results;
  console.log(
    `Audit: ${audit.stored} events stored, ${audit.shipped} shipped to Loki, at least ${audit.expectedAtLeast} expected from the load: ${audit.complete ? "complete" : "INCOMPLETE"}`,
  );
  console.log(`Results: ${options.out} (${results.wallSeconds} s)`);
  return audit.complete ? 0 : 1;
}

process.exit(await main());
