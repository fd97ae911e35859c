/** What `bun run dev` prints once everything is up: where to go, and how to get in. */
export interface BannerFacts {
  mode: "embedded" | "processes";
  dashboardUrl: string;
  grpcAddress: string;
  /** Undefined when TLS comes from GRPC_TLS_CERT or is off. */
  caCertPath: string | undefined;
  /** A token generated and stored on this start; shown once. */
  generatedAdminToken: string | undefined;
  /** True when ADMIN_BOOTSTRAP_TOKEN is set (it is never echoed). */
  bootstrapFromEnv: boolean;
  dataDir: string;
}

export function banner(facts: BannerFacts): string {
  const token = facts.generatedAdminToken
    ? `${facts.generatedAdminToken}\n                 (shown once: only its hash is stored; keep it somewhere safe)`
    : facts.bootstrapFromEnv
      ? "the ADMIN_BOOTSTRAP_TOKEN you set (stored as a hash on first start)"
      : "the one printed on first start; stop and run `bun run admin:token create --name you` for another";
  return [
    "",
    `Secrets Service is running (${facts.mode === "embedded" ? "embedded: one process, no external server" : "one process per service"})`,
    `  Dashboard:     ${facts.dashboardUrl}`,
    `  gRPC:          ${facts.grpcAddress} (${facts.caCertPath ? "TLS" : "see GRPC_TLS_* / GRPC_INSECURE"})`,
    ...(facts.caCertPath ? [`  CA cert:       ${facts.caCertPath}`] : []),
    `  Admin token:   ${token}`,
    `  Data:          ${facts.dataDir}`,
    "  Stop with Ctrl-C; everything is kept for the next start.",
    "",
  ].join("\n");
}

/** A new admin token for the first start: the vault's prefix and 32 random bytes in base64url. */
export function newAdminToken(): string {
  return `ssadm_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
}
