/**
 * The admin API's only way to the vault: typed bus requests with one timeout. Every admin operation
 * carries an AdminContext naming the acting admin and the request, which the vault records and audits.
 */
import { type Bus, type Operation, request } from "@secrets/bus";

export interface VaultClient {
  /** Sends the operation's request; rejects with the vault's (or the bus's) BusError. */
  call<Req, Rep>(operation: Operation<Req, Rep>, message: Req): Promise<Rep>;
}

export function createVaultClient(bus: Bus, timeoutMs: number): VaultClient {
  return {
    call: (operation, message) => request(bus, operation, message, { timeoutMs }),
  };
}
