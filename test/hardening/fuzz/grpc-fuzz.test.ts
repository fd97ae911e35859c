/**
 * Hostile input over gRPC, on a real gateway and vault: every method of `secrets.v1.SecretsService` and
 * `grpc.health.v1.Health` (taken from their definitions, so a new RPC is covered), every field of its
 * request (derived from the generated message, so a new field is too), with random Unicode, NUL and
 * control characters, oversized strings, wrong types on the wire, random bytes and hostile metadata. Each
 * call must end quickly with a clear answer (a status the client can act on, with a message), never
 * INTERNAL/UNKNOWN/UNAVAILABLE and never silence; and neither process may crash or log an error.
 *
 * A quick subset runs in `bun run test`; `bun run test:fuzz` runs thousands of cases (FUZZ_RUNS).
 */

import * as healthApi from "@secrets/proto/grpc-health";
import { HealthService } from "@secrets/proto/grpc-health";
import * as secretsApi from "@secrets/proto/secrets";
import { SecretsServiceService } from "@secrets/proto/secrets";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBusClient } from "../../support/admin-bus-client.ts";
import { secretsClient } from "../../support/grpc-client.ts";
import type { ServiceProcess } from "../../support/processes.ts";
import { provisionService } from "../../support/provision.ts";
import { createStack, type Stack } from "../../support/stack.ts";
import { newServiceToken } from "../../support/tokens.ts";
import {
  anyText,
  fuzzParameters,
  fuzzTimeoutMs,
  oversizedText,
  validSecretName,
  validServiceName,
  validToken,
} from "./arbitraries.ts";
import { callMethod, type Definition, type Ending, serviceClient } from "./grpc-calls.ts";

let stack: Stack;
let vault: ServiceProcess;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
const service = { name: "fuzzed", token: newServiceToken() };

const services: { name: string; definition: Definition; messages: Record<string, unknown> }[] = [
  {
    name: "SecretsService",
    definition: SecretsServiceService as unknown as Definition,
    messages: secretsApi,
  },
  { name: "Health", definition: HealthService as unknown as Definition, messages: healthApi },
];

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault();
  // Limits high enough that the fuzz reaches the vault rather than the rate limiter (tested elsewhere).
  gateway = await stack.startGateway({
    RATE_LIMIT_REGISTER_PER_MINUTE: "1000000",
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "1000000",
  });
  const grpc = secretsClient(gateway.address, gateway.caFile);
  await provisionService(grpc, adminBusClient(stack.bus), service, { FUZZ_KNOWN: "fuzz-known-value" });
  grpc.close();
});

afterAll(async () => {
  await stack?.dispose();
});

/** Statuses a caller can act on. INTERNAL, UNKNOWN, UNAVAILABLE, DEADLINE_EXCEEDED or silence are not. */
const clearAnswers = new Set([
  "OK",
  "OPEN",
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "FAILED_PRECONDITION",
  "RESOURCE_EXHAUSTED",
  "ABORTED",
]);

function expectClearAnswer(ending: Ending, what: string): void {
  if (!clearAnswers.has(ending.code)) throw new Error(`${what}: ${ending.code} ${ending.details}`);
  if (!["OK", "OPEN"].includes(ending.code) && ending.details.trim() === "") {
    throw new Error(`${what}: ${ending.code} without a message`);
  }
  if (ending.ms > 5_000) throw new Error(`${what}: answered after ${ending.ms} ms`);
}

/** `GetSecret` for `/secrets.v1.SecretsService/GetSecret`. */
const rpcName = (definition: Definition, method: string) =>
  definition[method]?.path.split("/").pop() ?? method;

type Codec = { fromPartial(value: object): Record<string, unknown> };

/** Realistic values for fields whose names say what they hold, so some requests pass validation. */
function valuesFor(field: string): fc.Arbitrary<string>[] {
  if (/token/i.test(field)) return [validToken, fc.constant(service.token)];
  if (/secretName/i.test(field)) return [validSecretName, fc.constant("FUZZ_KNOWN")];
  if (/serviceName/i.test(field)) return [validServiceName];
  if (/^service$/.test(field)) return [fc.constantFrom("", "secrets.v1.SecretsService")];
  return [];
}

/** An arbitrary request of `codec`'s message type: each field of its default value, filled with anything. */
function requestOf(codec: Codec): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [field, base] of Object.entries(codec.fromPartial({}))) {
    if (typeof base === "string") fields[field] = anyText(valuesFor(field));
    else if (typeof base === "number") fields[field] = fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31));
    else if (typeof base === "boolean") fields[field] = fc.boolean();
    else if (Array.isArray(base)) {
      // A repeated message shows its fields when given an empty one; a repeated string stays empty.
      const element = codec.fromPartial({ [field]: [{}] })[field] as unknown[];
      const probe = element[0];
      const item: fc.Arbitrary<unknown> =
        probe && typeof probe === "object" && Object.keys(probe).length > 0
          ? fc.record(Object.fromEntries(Object.keys(probe).map((key) => [key, anyText(valuesFor(key))])))
          : anyText(valuesFor(field.replace(/s$/, "")));
      fields[field] = fc.oneof(
        fc.array(item, { maxLength: 5 }),
        fc.array(item, { minLength: 95, maxLength: 130 }),
        item.chain((one) => fc.constant(Array.from({ length: 3 }, () => one))),
      );
    }
  }
  return fc.record(fields);
}

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 80,
});

/** Metadata a client may send: nothing, a right or wrong bearer token, anything printable, too much. */
const metadataArbitrary: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constant({}),
  fc.constant({ authorization: `Bearer ${service.token}` }),
  validToken.map((token) => ({ authorization: `Bearer ${token}` })),
  printable.map((value) => ({ authorization: value })),
  printable.map((value) => ({ authorization: `Bearer ${value}` })),
  fc.constant({ authorization: "Basic dXNlcjpwYXNz" }),
  fc.constant({ authorization: `Bearer ${"A".repeat(9_000)}` }),
  printable.map((agent) => ({ "user-agent": agent, authorization: `Bearer ${service.token}` })),
);

/** Protobuf bytes with fields of the wrong wire type, truncated lengths, unknown fields, or pure noise. */
const wireBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc
    .array(
      fc.record({
        field: fc.integer({ min: 1, max: 20 }),
        wireType: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7),
        payload: fc.uint8Array({ maxLength: 40 }),
        declaredLength: fc.integer({ min: 0, max: 300 }),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .map((parts) =>
      Buffer.concat(
        parts.flatMap(({ field, wireType, payload, declaredLength }) => {
          const tag = Buffer.from([((field << 3) | wireType) & 0x7f]);
          if (wireType === 2) return [tag, Buffer.from([declaredLength & 0x7f]), Buffer.from(payload)];
          return [tag, Buffer.from(payload)];
        }),
      ),
    ),
  oversizedText.map((text) => Buffer.from(text, "utf8")),
);

describe("hostile input over gRPC", () => {
  for (const { name, definition, messages } of services) {
    for (const method of Object.keys(definition)) {
      const rpc = rpcName(definition, method);
      const codec = messages[`${rpc}Request`] as Codec | undefined;
      const requestType = codec ?? (messages[`${name === "Health" ? "HealthCheck" : rpc}Request`] as Codec);

      it(
        `${name}.${rpc}: every field, any value, any metadata → a clear answer in time`,
        async () => {
          const client = serviceClient(definition, gateway.address, gateway.caFile);
          try {
            await fc.assert(
              fc.asyncProperty(requestOf(requestType), metadataArbitrary, async (request, metadata) => {
                expectClearAnswer(await callMethod(client, definition, method, request, metadata), rpc);
              }),
              fuzzParameters(),
            );
          } finally {
            client.close();
          }
        },
        fuzzTimeoutMs,
      );

      it(
        `${name}.${rpc}: undecodable or wrongly typed bytes → a clear answer in time`,
        async () => {
          const client = serviceClient(definition, gateway.address, gateway.caFile, true);
          try {
            await fc.assert(
              fc.asyncProperty(wireBytes, async (bytes) => {
                const ending = await callMethod(client, definition, method, Buffer.from(bytes), {
                  authorization: `Bearer ${service.token}`,
                });
                expectClearAnswer(ending, `${rpc} raw`);
              }),
              fuzzParameters(),
            );
          } finally {
            client.close();
          }
        },
        fuzzTimeoutMs,
      );
    }
  }

  it("left both processes running, with no error in their logs", async () => {
    for (const process of [vault, gateway.process]) {
      expect(
        await Promise.race([process.exited.then(() => "exited"), Bun.sleep(0).then(() => "running")]),
      ).toBe("running");
      expect(process.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
    }
    // And they still serve.
    const grpc = secretsClient(gateway.address, gateway.caFile);
    expect(await grpc.getSecret("FUZZ_KNOWN", service.token)).toMatchObject({ ok: true });
    grpc.close();
  });
});
