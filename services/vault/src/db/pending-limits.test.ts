import { BusError, ErrorCode } from "@secrets/bus";
import { describe, expect, it } from "vitest";
import { serializedPerQueue } from "./pending-limits.ts";

describe("serializedPerQueue", () => {
  it("runs one queue's work in order, and other queues' beside it", async () => {
    const order: string[] = [];
    const step = (name: string, ms: number) => async () => {
      await Bun.sleep(ms);
      order.push(name);
      return name;
    };
    const results = await Promise.all([
      serializedPerQueue("q", "a", step("a1", 30)),
      serializedPerQueue("q", "a", step("a2", 1)),
      serializedPerQueue("q", "b", step("b1", 1)),
    ]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(order).toEqual(["b1", "a1", "a2"]);
  });

  it("refuses work whose turn does not come in time, so a hung transaction leaves no backlog", async () => {
    let release: () => void = () => {};
    const hung = serializedPerQueue(
      "q",
      "hung",
      () => new Promise<void>((resolve) => (release = resolve)),
      50,
    );
    let ran = false;
    const queued = serializedPerQueue(
      "q",
      "hung",
      async () => {
        ran = true;
      },
      50,
    ).catch((error: unknown) => error);
    const refused = await queued;
    expect(refused).toBeInstanceOf(BusError);
    expect((refused as BusError).code).toBe(ErrorCode.UNAVAILABLE);
    expect(ran).toBe(false);
    release();
    await hung;
    // Once the hung work is over, the queue serves again at once.
    await expect(serializedPerQueue("q", "hung", async () => "next", 50)).resolves.toBe("next");
  });
});
