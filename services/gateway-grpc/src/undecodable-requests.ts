/**
 * A request message that does not decode (truncated, wrong wire types, random bytes) is the client's fault,
 * but grpc-js answers it with INTERNAL ("Error deserializing request"), as if the server had failed, and
 * never calls the handler. These wrappers let such a request reach the handler as an `UndecodableRequest`,
 * answered with INVALID_ARGUMENT and logged like any other call (test/hardening/fuzz/grpc-fuzz.test.ts).
 */
import {
  type MethodDefinition,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "@secrets/logger";
import { peerHost } from "./call-context.ts";

/** What a handler receives in place of a message that could not be decoded. */
export class UndecodableRequest {
  constructor(readonly method: string) {}
}

/** `definition` with deserializers that hand over an `UndecodableRequest` instead of throwing. */
export function decodingLeniently<D extends ServiceDefinition>(definition: D): D {
  const lenient: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(
    definition as Record<string, MethodDefinition<unknown, unknown>>,
  )) {
    const rpc = method.path.split("/").pop() ?? name;
    lenient[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return new UndecodableRequest(rpc);
        }
      },
    };
  }
  return lenient as D;
}

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** `implementation` whose handlers refuse an `UndecodableRequest` with INVALID_ARGUMENT. */
export function refusingUndecodable<I extends UntypedServiceImplementation>(
  implementation: I,
  logger: Logger,
): I {
  const refusing: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(implementation)) {
    refusing[name] = (call: AnyCall, callback?: sendUnaryData<unknown>) => {
      if (!(call.request instanceof UndecodableRequest)) {
        return (handler as (call: AnyCall, callback?: sendUnaryData<unknown>) => void)(call, callback);
      }
      const method = call.request.method;
      const error = {
        code: status.INVALID_ARGUMENT,
        details: `The request is not a valid ${method} message (it could not be decoded)`,
      };
      let peer = "";
      try {
        peer = peerHost(call.getPeer());
      } catch {
        // Unknown peer: logged as "".
      }
      logger.info("grpc call", {
        method,
        grpcStatus: "INVALID_ARGUMENT",
        reason: "",
        undecodable: true,
        peer,
      });
      if (callback) callback(error);
      else call.emit("error", error);
    };
  }
  return refusing as I;
}
