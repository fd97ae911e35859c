/**
 * How the harness and its child processes talk: a child gets its spec as JSON in `argv[2]` and answers
 * with one JSON line on stdout, `{"ready": ...}` for a server once it listens, `{"result": ...}` for a
 * load generator once it is done. Everything else a child prints is diagnostics.
 */

/** The spec the harness passed to this process. */
export function readSpec<T>(): T {
  const text = process.argv[2];
  if (!text) throw new Error("Expected the spec as JSON in the first argument");
  return JSON.parse(text) as T;
}

/** Tells the harness the server listens. */
export function announceReady(details: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: details })}\n`);
}

/** Hands the result to the harness and exits. */
export function finish(result: unknown): never {
  process.stdout.write(`${JSON.stringify({ result })}\n`);
  process.exit(0);
}
