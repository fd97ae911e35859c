/**
 * Checks that the servers the tests use answer: PostgreSQL (a query) and NATS with JetStream enabled.
 * Prints what is wrong and how to start it, and exits non-zero.
 */
import { connect } from "nats";
import postgres from "postgres";

const databaseUrl = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const problems: string[] = [];

const sql = postgres(databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
try {
  const [row] = await sql<{ version: string }[]>`select version()`;
  console.log(`PostgreSQL: ${row?.version.split(",")[0]}`);
} catch (error) {
  problems.push(
    `PostgreSQL at ${new URL(databaseUrl).host} does not answer (${(error as Error).message}); start it with ` +
      "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`",
  );
} finally {
  await sql.end({ timeout: 1 });
}

try {
  const nc = await connect({ servers: natsUrl, timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.getAccountInfo();
    console.log(`NATS: ${nc.info?.version} with JetStream (${info.streams} streams)`);
  } catch (error) {
    problems.push(
      `NATS at ${natsUrl} answers but JetStream is not enabled (${(error as Error).message}); run it with -js`,
    );
  } finally {
    await nc.close();
  }
} catch (error) {
  problems.push(`NATS at ${natsUrl} does not answer (${(error as Error).message})`);
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
