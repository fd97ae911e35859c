/**
 * X.509 for the generated TLS material: a self-signed CA and a server certificate it signs, ECDSA P-256
 * with SHA-256, made with Web Crypto and @peculiar/x509 (pure TypeScript, no `openssl` binary).
 */
// @peculiar/x509 2.x resolves its ASN.1 helpers through tsyringe, which needs the Reflect metadata
// polyfill loaded first; this side-effect import must stay above the library's.
import "reflect-metadata";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

const ecdsa = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;
/** Certificates start a little in the past, so a client whose clock is slightly behind accepts them. */
const backdateMs = 5 * 60 * 1000;

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** The names a server certificate is valid for. */
export interface CertificateNames {
  dns: string[];
  ips: string[];
}

/** 16 random bytes, first bit cleared so the DER integer stays positive. */
function serialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

async function keyPairPem(keys: CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
}

function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

/** A self-signed CA that may sign server certificates only (path length 0). */
export async function createCertificateAuthority(options: {
  now: Date;
  validDays: number;
}): Promise<PemPair> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Secrets Service gRPC CA ${serialNumber().slice(0, 8)}`,
    notBefore: new Date(options.now.getTime() - backdateMs),
    notAfter: new Date(options.now.getTime() + options.validDays * dayMs),
    keys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await keyPairPem(keys) };
}

/** Splits names into DNS names and IP addresses. */
export function certificateNames(names: readonly string[]): CertificateNames {
  const dns = [...new Set(names.filter((name) => isIP(name) === 0).map((name) => name.toLowerCase()))];
  const ips = [...new Set(names.filter((name) => isIP(name) !== 0))];
  return { dns, ips };
}

/** A server certificate for `names`, signed by `ca`. */
export async function createServerCertificate(options: {
  ca: PemPair;
  names: CertificateNames;
  now: Date;
  validDays: number;
}): Promise<PemPair> {
  const caCert = new x509.X509Certificate(options.ca.certPem);
  const caKey = await crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(options.ca.keyPem),
    ecdsa,
    false,
    ["sign"],
  );
  const keys = await generateKeys();
  const sans = [
    ...options.names.dns.map((value) => ({ type: "dns" as const, value })),
    ...options.names.ips.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${options.names.dns[0] ?? "secrets-gateway"}`,
    issuer: caCert.subject,
    notBefore: new Date(options.now.getTime() - backdateMs),
    notAfter: new Date(options.now.getTime() + options.validDays * dayMs),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await keyPairPem(keys) };
}

/** What the store needs to know about a certificate: its validity and the names it covers. */
export function certificateInfo(certPem: string): { notAfter: Date; names: CertificateNames } {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const entries = san?.names.items ?? [];
  return {
    notAfter: cert.notAfter,
    names: {
      dns: entries.filter((n) => n.type === "dns").map((n) => n.value.toLowerCase()),
      ips: entries.filter((n) => n.type === "ip").map((n) => n.value),
    },
  };
}

/** True when `keyPem` is the private key of `certPem`'s public key (both parse). */
export function keyMatchesCertificate(pair: PemPair): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(pair.keyPem)).export({ type: "spki", format: "der" });
    const fromCert = Buffer.from(new x509.X509Certificate(pair.certPem).publicKey.rawData);
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}
