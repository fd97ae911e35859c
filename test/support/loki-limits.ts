/**
 * Loki's ingestion limits as the stand-in applies them, with Loki's defaults (v2.9.10 and v3.5.0,
 * `pkg/validation/limits.go`; the limiters in `pkg/distributor/ratestore` and `pkg/ingester/limiter.go`
 * are golang.org/x/time/rate token buckets).
 */

const mib = 1 << 20;

/** Loki's defaults for what the stand-in enforces. */
export const lokiDefaultLimits = {
  /** `ingestion_rate_mb: 4`: bytes per second per tenant (line bytes), in the distributor. */
  ingestionRateBytes: 4 * mib,
  /** `ingestion_burst_size_mb: 6`: a push of more line bytes than this is refused with 429, always. */
  ingestionBurstBytes: 6 * mib,
  /** `per_stream_rate_limit: 3MB`, in the ingester, entry by entry. */
  perStreamRateBytes: 3 * mib,
  /** `per_stream_rate_limit_burst: 15MB`. */
  perStreamBurstBytes: 15 * mib,
  /**
   * gRPC's default `grpc_server_max_recv_msg_size` (4 MiB): the distributor forwards a push to the
   * ingester as one message, and a larger one fails with ResourceExhausted (a 500 to the client).
   */
  maxForwardedBytes: 4 * mib,
} as const;

export type LokiLimits = { -readonly [K in keyof typeof lokiDefaultLimits]: number };

/** A token bucket (x/time/rate's semantics: `allow(n)` with n above the burst is never true). */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.updatedMs = now();
  }

  /** Takes `n` tokens if they are there; takes nothing otherwise. */
  allow(n: number): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedMs) * this.ratePerSecond) / 1_000);
    this.updatedMs = now;
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }
}

/**
 * Loki 3's `discover_service_name` default (`pkg/validation/limits.go`): the first of these labels that a
 * stream has becomes its `service_name` label (`pkg/loghttp/push/push.go`), else `unknown_service`.
 * Loki 2.9 has no such step.
 */
export const discoverServiceName = [
  "service",
  "app",
  "application",
  "app_name",
  "name",
  "app_kubernetes_io_name",
  "container",
  "container_name",
  "k8s_container_name",
  "component",
  "workload",
  "job",
  "k8s_job_name",
] as const;

/** The labels a Loki 3 distributor stores a stream under. */
export function withServiceName(labels: Record<string, string>): Record<string, string> {
  if ("service_name" in labels) return labels;
  const found = discoverServiceName.find((name) => (labels[name] ?? "") !== "");
  return { ...labels, service_name: found === undefined ? "unknown_service" : (labels[found] ?? "") };
}
