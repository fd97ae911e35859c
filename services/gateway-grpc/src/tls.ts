/**
 * The server's transport security: TLS from operator-provided PEM files, TLS from material generated
 * once into the data directory, or plaintext when explicitly asked for (development only).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@secrets/logger";
import type { GatewayConfig } from "./config.ts";
import { certificateInfo, keyMatchesCertificate } from "./tls-certificates.ts";
import { ensureGeneratedTls } from "./tls-store.ts";

/** What the gateway listens with: TLS with a certificate and its key, or (for tests and a local proxy) none. */
export type ListenCredentials = { kind: "insecure" } | { kind: "tls"; certPem: string; keyPem: string };

export type TlsSetup =
  | { mode: "insecure"; credentials: ListenCredentials }
  | { mode: "provided"; credentials: ListenCredentials; certFile: string; notAfter: Date }
  | {
      mode: "generated";
      credentials: ListenCredentials;
      /** The CA certificate clients must trust. */
      caCertPath: string;
      notAfter: Date;
      action: "created" | "renewed" | "reused";
    };

/** A TLS problem the operator must fix; the message says what and where, never key material. */
export class TlsSetupError extends Error {
  override readonly name = "TlsSetupError";
}

/**
 * What the gateway's TLS accepts: TLS 1.2 and 1.3 only, and for 1.2 only ECDHE key exchange with AEAD
 * ciphers (AES-GCM, ChaCha20-Poly1305), so no CBC or SHA-1 suite is ever negotiated. TLS 1.3's suites
 * are all AEAD; BoringSSL (Bun) does not let them be chosen, so they need no list.
 */
export const serverTlsPolicy = {
  minVersion: "TLSv1.2",
  ciphers: [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
  ].join(":"),
  honorCipherOrder: true,
} as const;

function credentialsFor(certPem: string, keyPem: string): ListenCredentials {
  return { kind: "tls", certPem, keyPem };
}

function readProvided(path: string, variable: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new TlsSetupError(`${variable} (${path}) cannot be read: ${(error as Error).message}`);
  }
}

export type TlsConfig = Pick<
  GatewayConfig,
  "grpcInsecure" | "tlsCertFile" | "tlsKeyFile" | "tlsSans" | "dataDir"
>;

/** Builds the server credentials the configuration asks for. */
export async function loadServerTls(config: TlsConfig, logger: Logger): Promise<TlsSetup> {
  if (config.grpcInsecure) {
    logger.warn(
      "GRPC_INSECURE=true: serving plaintext gRPC; tokens and secret values cross the network unencrypted",
    );
    return { mode: "insecure", credentials: { kind: "insecure" } };
  }
  if (config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined) {
    const certPem = readProvided(config.tlsCertFile, "GRPC_TLS_CERT");
    const keyPem = readProvided(config.tlsKeyFile, "GRPC_TLS_KEY");
    if (!keyMatchesCertificate({ certPem, keyPem })) {
      throw new TlsSetupError(
        `GRPC_TLS_KEY (${config.tlsKeyFile}) is not the private key of GRPC_TLS_CERT (${config.tlsCertFile}), or one of them is not PEM`,
      );
    }
    const { notAfter } = certificateInfo(certPem);
    if (notAfter.getTime() <= Date.now()) logger.warn("the TLS certificate has expired", { notAfter });
    return {
      mode: "provided",
      credentials: credentialsFor(certPem, keyPem),
      certFile: config.tlsCertFile,
      notAfter,
    };
  }
  let generated: Awaited<ReturnType<typeof ensureGeneratedTls>>;
  try {
    generated = await ensureGeneratedTls({ dataDir: config.dataDir, extraNames: config.tlsSans });
  } catch (error) {
    throw new TlsSetupError(
      `cannot prepare TLS material in ${join(config.dataDir, "tls")}: ${(error as Error).message}`,
    );
  }
  return {
    mode: "generated",
    credentials: credentialsFor(generated.server.certPem, generated.server.keyPem),
    caCertPath: generated.caCertPath,
    notAfter: generated.notAfter,
    action: generated.action,
  };
}
