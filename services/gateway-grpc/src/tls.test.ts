import "reflect-metadata";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { X509Certificate } from "@peculiar/x509";
import { MemoryBus } from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import { afterEach, describe, expect, it } from "vitest";
import { capturingLogger } from "../test/harness.ts";
import { HealthClient } from "./health-proto.ts";
import { createGatewayServer } from "./server.ts";
import { loadServerTls, TlsSetupError } from "./tls.ts";
import { certificateInfo, createCertificateAuthority, keyMatchesCertificate } from "./tls-certificates.ts";
import { ensureGeneratedTls, tlsFiles } from "./tls-store.ts";

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gateway-tls-test-"));
  dirs.push(dir);
  return join(dir, "data");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;
const read = (dir: string, name: string) => readFileSync(join(dir, "tls", name), "utf8");
const daysFromNow = (days: number) => () => new Date(Date.now() + days * 86_400_000);
const tlsConfig = (dir: string) => ({
  grpcInsecure: false,
  tlsCertFile: undefined,
  tlsKeyFile: undefined,
  tlsSans: [] as string[],
  dataDir: dir,
});

/** Health-checks a gateway on `port` with a client trusting `caPem`; resolves with the outcome. */
function healthCheck(port: number, caPem: Buffer): Promise<{ ok: boolean; code?: status }> {
  const client = new HealthClient(`localhost:${port}`, credentials.createSsl(caPem));
  return new Promise((resolve) => {
    client.check({ service: "" }, new Metadata(), { deadline: Date.now() + 3_000 }, (error) => {
      client.close();
      resolve(error ? { ok: false, code: error.code } : { ok: true });
    });
  });
}

describe("generated TLS material", () => {
  it("is generated once with the right files, modes and names, and reused on restart", async () => {
    const dir = dataDir();
    const first = await ensureGeneratedTls({ dataDir: dir, extraNames: ["gateway.internal", "10.1.2.3"] });
    expect(first.action).toBe("created");
    expect(readdirSync(join(dir, "tls")).sort()).toEqual(["ca.crt", "ca.key", "gateway.crt", "gateway.key"]);
    expect(mode(join(dir, "tls"))).toBe(0o700);
    expect(mode(join(dir, "tls", tlsFiles.caKey))).toBe(0o600);
    expect(mode(join(dir, "tls", tlsFiles.key))).toBe(0o600);
    expect(read(dir, tlsFiles.key)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const { names, notAfter } = certificateInfo(read(dir, tlsFiles.cert));
    expect(names).toEqual({ dns: ["localhost", "gateway.internal"], ips: ["127.0.0.1", "10.1.2.3"] });
    expect(notAfter.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    const server = new X509Certificate(read(dir, tlsFiles.cert));
    expect(server.publicKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });

    const before = ["ca.crt", "ca.key", "gateway.crt", "gateway.key"].map((name) => read(dir, name));
    const second = await ensureGeneratedTls({ dataDir: dir, extraNames: ["gateway.internal"] });
    expect(second.action).toBe("reused");
    expect(["ca.crt", "ca.key", "gateway.crt", "gateway.key"].map((name) => read(dir, name))).toEqual(before);
  });

  it("serves TLS that a client trusting ca.crt accepts and a client trusting another CA refuses", async () => {
    const dir = dataDir();
    const tls = await loadServerTls(tlsConfig(dir), silentLogger);
    expect(tls.mode).toBe("generated");
    const bus = new MemoryBus({ namespace: "tls", logger: silentLogger });
    const gateway = createGatewayServer({
      bus,
      logger: silentLogger,
      vaultTimeoutMs: 1_000,
      rateLimits: { registerPerMinute: 30, authFailuresPerMinute: 20 },
    });
    try {
      const port = await gateway.listen("127.0.0.1", 0, tls.credentials);
      const caPem = readFileSync(tls.mode === "generated" ? tls.caCertPath : "");
      expect(await healthCheck(port, caPem)).toEqual({ ok: true });
      const stranger = await createCertificateAuthority({ now: new Date(), validDays: 1 });
      expect(await healthCheck(port, Buffer.from(stranger.certPem))).toEqual({
        ok: false,
        code: status.UNAVAILABLE,
      });
    } finally {
      await gateway.shutdown(500);
      await bus.close();
    }
  });

  it("ends with one consistent set when several gateways generate at once", async () => {
    const dir = dataDir();
    const results = await Promise.all(Array.from({ length: 5 }, () => ensureGeneratedTls({ dataDir: dir })));
    expect(results.filter((r) => r.action === "created")).toHaveLength(1);
    for (const result of results) expect(result.server.certPem).toBe(read(dir, tlsFiles.cert));
    expect(readdirSync(dir)).toEqual(["tls"]); // the losers' scratch folders are gone
    expect(
      keyMatchesCertificate({ certPem: read(dir, tlsFiles.cert), keyPem: read(dir, tlsFiles.key) }),
    ).toBe(true);
  });

  it("ends with one consistent set when separate processes generate at once", async () => {
    const dir = dataDir();
    const script = `
      import { ensureGeneratedTls } from ${JSON.stringify(join(import.meta.dirname, "tls-store.ts"))};
      const tls = await ensureGeneratedTls({ dataDir: process.env.TLS_DATA_DIR });
      console.log(tls.action + " " + new Bun.CryptoHasher("sha256").update(tls.server.certPem).digest("hex"));
    `;
    const children = Array.from({ length: 3 }, () =>
      Bun.spawn([process.execPath, "-e", script], {
        env: { ...process.env, TLS_DATA_DIR: dir },
        stdout: "pipe",
      }),
    );
    const outputs = await Promise.all(children.map((child) => new Response(child.stdout).text()));
    expect(await Promise.all(children.map((child) => child.exited))).toEqual([0, 0, 0]);
    const lines = outputs.map((output) => output.trim().split(" "));
    const onDisk = createHash("sha256").update(read(dir, tlsFiles.cert)).digest("hex");
    expect(lines.filter(([action]) => action === "created")).toHaveLength(1);
    expect(lines.map(([, hash]) => hash)).toEqual([onDisk, onDisk, onDisk]);
  });

  it.each([
    ["about to expire", 340],
    ["expired", 400],
  ])("renews the server certificate, signed by the same CA, when it is %s", async (_label, days) => {
    const dir = dataDir();
    await ensureGeneratedTls({ dataDir: dir });
    const [caBefore, certBefore] = [read(dir, tlsFiles.caCert), read(dir, tlsFiles.cert)];
    const renewed = await ensureGeneratedTls({ dataDir: dir, now: daysFromNow(days) });
    expect(renewed.action).toBe("renewed");
    expect(read(dir, tlsFiles.caCert)).toBe(caBefore);
    expect(read(dir, tlsFiles.cert)).not.toBe(certBefore);
    expect(mode(join(dir, "tls", tlsFiles.key))).toBe(0o600);
    const ca = new X509Certificate(caBefore);
    expect(
      await new X509Certificate(read(dir, tlsFiles.cert)).verify({
        publicKey: ca.publicKey,
        signatureOnly: true,
      }),
    ).toBe(true);
    expect(readdirSync(join(dir, "tls")).sort()).toEqual(["ca.crt", "ca.key", "gateway.crt", "gateway.key"]);
  });

  it("renews the server certificate when GRPC_TLS_SANS names one it lacks", async () => {
    const dir = dataDir();
    await ensureGeneratedTls({ dataDir: dir });
    const renewed = await ensureGeneratedTls({ dataDir: dir, extraNames: ["secrets.example.org"] });
    expect(renewed.action).toBe("renewed");
    expect(certificateInfo(read(dir, tlsFiles.cert)).names.dns).toContain("secrets.example.org");
  });

  it("repairs a key that does not match its certificate, past a stale renewal lock", async () => {
    const dir = dataDir();
    await ensureGeneratedTls({ dataDir: dir });
    const other = await createCertificateAuthority({ now: new Date(), validDays: 1 });
    rmSync(join(dir, "tls", tlsFiles.key));
    writeFileSync(join(dir, "tls", tlsFiles.key), other.keyPem, { mode: 0o600 });
    const lock = join(dir, "tls", "renew.lock");
    writeFileSync(lock, "");
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const repaired = await ensureGeneratedTls({ dataDir: dir });
    expect(repaired.action).toBe("renewed");
    expect(keyMatchesCertificate(repaired.server)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it("refuses a folder whose CA has gone missing instead of silently replacing the CA", async () => {
    const dir = dataDir();
    await ensureGeneratedTls({ dataDir: dir });
    rmSync(join(dir, "tls", tlsFiles.caKey));
    await expect(ensureGeneratedTls({ dataDir: dir })).rejects.toThrow(/lacks ca.crt or ca.key/);
  });
});

describe("loadServerTls", () => {
  it("uses operator-provided files and refuses a key that does not belong to the certificate", async () => {
    const dir = dataDir();
    const generated = await ensureGeneratedTls({ dataDir: dir });
    const certFile = join(dir, "tls", tlsFiles.cert);
    const config = {
      ...tlsConfig(dataDir()),
      tlsCertFile: certFile,
      tlsKeyFile: join(dir, "tls", tlsFiles.key),
    };
    const provided = await loadServerTls(config, silentLogger);
    expect(provided).toMatchObject({ mode: "provided", certFile, notAfter: generated.notAfter });
    const wrongKey = { ...config, tlsKeyFile: join(dir, "tls", tlsFiles.caKey) };
    await expect(loadServerTls(wrongKey, silentLogger)).rejects.toThrow(TlsSetupError);
    const missing = { ...config, tlsCertFile: join(dir, "nope.crt") };
    await expect(loadServerTls(missing, silentLogger)).rejects.toThrow(/GRPC_TLS_CERT .* cannot be read/);
  });

  it("serves plaintext only when asked, with a warning", async () => {
    const { logger, lines } = capturingLogger();
    const setup = await loadServerTls({ ...tlsConfig(dataDir()), grpcInsecure: true }, logger);
    expect(setup.mode).toBe("insecure");
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", msg: expect.stringMatching(/plaintext/) }),
    ]);
  });
});

describe("a tls folder holding something else", () => {
  it("is left alone with a clear error", async () => {
    const dir = dataDir();
    mkdirSync(join(dir, "tls"), { recursive: true });
    writeFileSync(join(dir, "tls", "notes.txt"), "mine");
    await expect(ensureGeneratedTls({ dataDir: dir })).rejects.toThrow(/exists without TLS material/);
    expect(readdirSync(join(dir, "tls"))).toEqual(["notes.txt"]);
  });
});

describe("the gateway's TLS policy", () => {
  it("refuses a client that offers only CBC suites, and negotiates an AEAD suite otherwise", async () => {
    const dir = dataDir();
    const setup = await loadServerTls(tlsConfig(dir), silentLogger);
    const gateway = createGatewayServer({
      bus: new MemoryBus({ namespace: "tls-policy", logger: silentLogger }),
      logger: silentLogger,
      vaultTimeoutMs: 1_000,
      rateLimits: { registerPerMinute: 10, authFailuresPerMinute: 10 },
    });
    try {
      const port = await gateway.listen("127.0.0.1", 0, setup.credentials);
      const ca = readFileSync(join(dir, "tls", "ca.crt"));
      const handshake = (options: Partial<ConnectionOptions>) =>
        new Promise<{ cipher?: string; protocol?: string | null; error?: string }>((resolve) => {
          const socket = tlsConnect(
            { host: "127.0.0.1", port, servername: "localhost", ca, ALPNProtocols: ["h2"], ...options },
            () => {
              resolve({ cipher: socket.getCipher().name, protocol: socket.getProtocol() });
              socket.destroy();
            },
          );
          socket.on("error", (error) => resolve({ error: error.message }));
        });
      const cbc = await handshake({
        maxVersion: "TLSv1.2",
        ciphers:
          "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA256:AES256-SHA",
      });
      expect(cbc.error).toBeDefined();
      const tls12 = await handshake({ maxVersion: "TLSv1.2" });
      expect(tls12.protocol).toBe("TLSv1.2");
      expect(tls12.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
      const tls13 = await handshake({});
      expect(tls13.protocol).toBe("TLSv1.3");
      expect(tls13.cipher).toMatch(/^TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/);
      const tls11 = await handshake({ minVersion: "TLSv1", maxVersion: "TLSv1.1" });
      expect(tls11.error).toBeDefined();
    } finally {
      await gateway.shutdown(100);
    }
  });
});
