/**
 * Calls any method of a gRPC service definition, typed (the generated serializers) or raw (bytes as they
 * are), and reports how it ended: a status with its details and `secrets-reason`, or no answer in time.
 * The methods come from the definition itself, so an RPC added later is fuzzed without a change here.
 */
import { readFileSync } from "node:fs";
import {
  type Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  type MethodDefinition,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
  status,
} from "@grpc/grpc-js";

export interface Ending {
  /** gRPC status name, "OK", or "NO_ANSWER" when nothing came back within the wait. */
  code: string;
  details: string;
  reason: string;
  ms: number;
  /** For a stream: the messages received before it ended (or before it was cancelled). */
  messages: number;
}

export type Definition = ServiceDefinition & Record<string, MethodDefinition<unknown, unknown>>;

const identity = (bytes: Buffer) => bytes;

/** A client for every method of `definition`; `raw` sends and receives bytes without (de)serializing. */
export function serviceClient(definition: Definition, address: string, caFile: string, raw = false): Client {
  const methods = Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      raw ? { ...method, requestSerialize: identity, responseDeserialize: identity } : method,
    ]),
  ) as ServiceDefinition;
  const Constructor = makeGenericClientConstructor(methods, "Fuzzed");
  return new Constructor(address, credentials.createSsl(readFileSync(caFile)));
}

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null) => void,
) => { on(event: "status", listener: (s: { metadata: Metadata }) => void): unknown };
type Streaming = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
) => ClientReadableStream<unknown>;

/**
 * Calls `method` and resolves once it has ended (a stream: once it ended, or `openMs` after it opened,
 * then it is cancelled) or `waitMs` passed without an answer (`NO_ANSWER`).
 */
export function callMethod(
  client: Client,
  definition: Definition,
  method: string,
  request: unknown,
  metadata: Record<string, string> = {},
  waitMs = 5_000,
): Promise<Ending> {
  const started = performance.now();
  const meta = new Metadata();
  for (const [key, value] of Object.entries(metadata)) meta.set(key, value);
  const options = { deadline: new Date(Date.now() + waitMs + 5_000) };
  const ms = () => Math.round(performance.now() - started);
  const fn = (client as unknown as Record<string, unknown>)[method];
  if (typeof fn !== "function") throw new Error(`no method ${method}`);
  return new Promise((resolve) => {
    let settled = false;
    let messages = 0;
    const settle = (ending: Omit<Ending, "ms" | "messages">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...ending, ms: ms(), messages });
    };
    const ended = (code: number, details: string, trailers: Metadata | undefined) =>
      settle({
        code: status[code] ?? String(code),
        details,
        reason: String(trailers?.get("secrets-reason")[0] ?? ""),
      });
    let cancel = () => {};
    const timer = setTimeout(() => {
      settle({ code: "NO_ANSWER", details: "", reason: "" });
      cancel();
    }, waitMs);
    if (definition[method]?.responseStream) {
      const stream = (fn as Streaming).call(client, request, meta, options);
      cancel = () => stream.cancel();
      stream.on("data", () => {
        messages += 1;
      });
      // A stream that opened and stays open has answered: it is closed after a moment.
      stream.on("metadata", () =>
        setTimeout(() => {
          if (!settled) {
            settle({ code: "OPEN", details: "", reason: "" });
            stream.cancel();
          }
        }, 100),
      );
      stream.on("status", (s: { code: number; details: string; metadata: Metadata }) =>
        ended(s.code, s.details, s.metadata),
      );
      stream.on("error", () => {});
    } else {
      const call = (fn as Unary).call(client, request, meta, options, () => {});
      call.on("status", (s) => {
        const { code, details } = s as unknown as { code: number; details: string };
        ended(code, details, s.metadata);
      });
    }
  });
}
