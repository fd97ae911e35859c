import { describe, expect, it } from "vitest";
import { createCoalescedLogWriter } from "./log-writer.ts";

describe("createCoalescedLogWriter", () => {
  it("writes the lines of one turn together, info to stdout and warnings to stderr, in order", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const writer = createCoalescedLogWriter({ out: (text) => out.push(text), err: (text) => err.push(text) });
    await new Promise<void>((resolve) => {
      setTimeout(() => writer.write('{"n":1}', "info"), 0);
      setTimeout(() => writer.write('{"n":2}', "warn"), 0);
      setTimeout(() => writer.write('{"n":3}', "info"), 0);
      setTimeout(resolve, 20);
    });
    expect(out).toEqual(['{"n":1}\n{"n":3}\n']);
    expect(err).toEqual(['{"n":2}\n']);
  });

  it("writes what is pending on flush", () => {
    const out: string[] = [];
    const writer = createCoalescedLogWriter({ out: (text) => out.push(text), err: () => {} });
    writer.write("line", "debug");
    writer.flush();
    expect(out).toEqual(["line\n"]);
  });
});
