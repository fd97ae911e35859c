/**
 * The generated TLS material in `$SECRETS_DATA_DIR/tls/`: made once, reused on later starts, shared
 * safely by gateways that start together on one data directory.
 *
 * - First start: everything is generated into a private temporary directory beside `tls/` and renamed
 *   to `tls/` in one step. Renaming onto a directory that already holds files fails, so when two gateways
 *   race, exactly one set wins and the loser reads the winner's files.
 * - Renewal (server certificate expired, about to expire, or missing a configured name): whoever takes
 *   `tls/renew.lock` writes the new key and certificate beside the old ones and renames each into place,
 *   signed by the existing CA so clients keep trusting `ca.crt`. A reader that catches the pair
 *   half-renamed sees a key that does not match the certificate and reads again after a pause, so nobody
 *   serves a mismatched pair.
 * - Keys are mode 0600, certificates 0644, the directory 0700.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  certificateInfo,
  certificateNames,
  createCertificateAuthority,
  createServerCertificate,
  keyMatchesCertificate,
  type PemPair,
} from "./tls-certificates.ts";
import { lostRenameRace, readIfExists, syncDirectory, tryLock, writeDurably } from "./tls-files.ts";

export const tlsFiles = {
  caCert: "ca.crt",
  caKey: "ca.key",
  cert: "gateway.crt",
  key: "gateway.key",
} as const;

/** Names every generated server certificate covers, before `GRPC_TLS_SANS`. */
export const defaultServerNames = ["localhost", "127.0.0.1"] as const;

export interface TlsStoreOptions {
  dataDir: string;
  /** Extra names from `GRPC_TLS_SANS`. */
  extraNames?: readonly string[];
  /** Default: the current time. */
  now?: () => Date;
  /** Default 10 years. */
  caValidDays?: number;
  /** Default 1 year. */
  serverValidDays?: number;
  /** Renew the server certificate when it expires within this many days; default 30. */
  renewWithinDays?: number;
}

export interface GeneratedTls {
  dir: string;
  caCertPath: string;
  server: PemPair;
  notAfter: Date;
  /** What this call did: created the material, renewed the server certificate, or reused both. */
  action: "created" | "renewed" | "reused";
}

const staleLockMs = 30_000;
const retryPauseMs = 50;
const maxAttempts = 400;

type Settings = Required<Omit<TlsStoreOptions, "extraNames">> & {
  names: ReturnType<typeof certificateNames>;
};

async function createInto(parent: string, target: string, settings: Settings): Promise<boolean> {
  const scratch = mkdtempSync(join(parent, ".tls-")); // mode 0700
  try {
    const now = settings.now();
    const ca = await createCertificateAuthority({ now, validDays: settings.caValidDays });
    const server = await createServerCertificate({
      ca,
      names: settings.names,
      now,
      validDays: settings.serverValidDays,
    });
    writeDurably(join(scratch, tlsFiles.caKey), ca.keyPem, 0o600);
    writeDurably(join(scratch, tlsFiles.caCert), ca.certPem, 0o644);
    writeDurably(join(scratch, tlsFiles.key), server.keyPem, 0o600);
    writeDurably(join(scratch, tlsFiles.cert), server.certPem, 0o644);
    syncDirectory(scratch);
    renameSync(scratch, target);
    syncDirectory(parent);
    return true;
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    if (lostRenameRace(error)) return false;
    throw error;
  }
}

async function renewServer(dir: string, ca: PemPair, settings: Settings): Promise<void> {
  const server = await createServerCertificate({
    ca,
    names: settings.names,
    now: settings.now(),
    validDays: settings.serverValidDays,
  });
  const suffix = `.new-${process.pid}-${crypto.randomUUID()}`;
  writeDurably(join(dir, tlsFiles.key + suffix), server.keyPem, 0o600);
  writeDurably(join(dir, tlsFiles.cert + suffix), server.certPem, 0o644);
  renameSync(join(dir, tlsFiles.key + suffix), join(dir, tlsFiles.key));
  renameSync(join(dir, tlsFiles.cert + suffix), join(dir, tlsFiles.cert));
  syncDirectory(dir);
}

/** The server pair when it is present, matching and good for a while yet; undefined when it must be (re)made. */
function usableServer(dir: string, settings: Settings): PemPair | undefined {
  const certPem = readIfExists(join(dir, tlsFiles.cert));
  const keyPem = readIfExists(join(dir, tlsFiles.key));
  if (certPem === undefined || keyPem === undefined) return undefined;
  const pair = { certPem, keyPem };
  // A mismatch is either a renewal half-renamed by another process or a broken pair; both get a renewal
  // under the lock, which first reads again (a finished renewal then needs nothing).
  if (!keyMatchesCertificate(pair)) return undefined;
  const info = certificateInfo(certPem);
  const renewAt = info.notAfter.getTime() - settings.renewWithinDays * 24 * 60 * 60 * 1000;
  const covered =
    settings.names.dns.every((name) => info.names.dns.includes(name)) &&
    settings.names.ips.every((ip) => info.names.ips.includes(ip));
  return settings.now().getTime() < renewAt && covered ? pair : undefined;
}

/** Loads the generated material, creating or renewing it first when needed. */
export async function ensureGeneratedTls(options: TlsStoreOptions): Promise<GeneratedTls> {
  const settings: Settings = {
    dataDir: options.dataDir,
    now: options.now ?? (() => new Date()),
    caValidDays: options.caValidDays ?? 3650,
    serverValidDays: options.serverValidDays ?? 365,
    renewWithinDays: options.renewWithinDays ?? 30,
    names: certificateNames([...defaultServerNames, ...(options.extraNames ?? [])]),
  };
  const dir = join(options.dataDir, "tls");
  const caCertPath = join(dir, tlsFiles.caCert);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  let action: GeneratedTls["action"] = "reused";
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const caCertPem = readIfExists(caCertPath);
    const caKeyPem = readIfExists(join(dir, tlsFiles.caKey));
    if (caCertPem === undefined && caKeyPem === undefined && !existsSync(join(dir, tlsFiles.cert))) {
      if (await createInto(options.dataDir, dir, settings)) action = "created";
      // Losing the rename means another process's complete set is in place now, unless the folder
      // exists holding something else, which must not be overwritten.
      else if (!existsSync(caCertPath))
        throw new Error(`${dir} exists without TLS material in it; remove it`);
      continue;
    }
    if (caCertPem === undefined || caKeyPem === undefined) {
      throw new Error(
        `${dir} lacks ${tlsFiles.caCert} or ${tlsFiles.caKey}; remove the folder to regenerate it`,
      );
    }
    const server = usableServer(dir, settings);
    if (server)
      return { dir, caCertPath, server, notAfter: certificateInfo(server.certPem).notAfter, action };
    const release = tryLock(dir, staleLockMs);
    if (!release) {
      await Bun.sleep(retryPauseMs);
      continue;
    }
    try {
      if (!usableServer(dir, settings)) {
        await renewServer(dir, { certPem: caCertPem, keyPem: caKeyPem }, settings);
        if (action === "reused") action = "renewed";
      }
    } finally {
      release();
    }
  }
  throw new Error(`TLS material in ${dir} stayed unusable; is another process rewriting it?`);
}
