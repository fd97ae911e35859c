import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chainedTrail, digestLine } from "../../../audit-chain/src/trail-fixture.ts";
import { cli, removeCopies, tempDir } from "../../test/cli-harness.ts";

afterAll(removeCopies);

const { privateKey, publicKey } = generateKeyPairSync("ed25519");

/** A folder with the public key and a signed 10-event trail, `change` applied to its lines. */
function setup(change: (lines: string[]) => string[] = (lines) => lines) {
  const cwd = tempDir();
  writeFileSync(join(cwd, "audit-signing.pub"), publicKey.export({ type: "spki", format: "pem" }).toString());
  const events = chainedTrail(10);
  const lines = [...events.map((e) => e.text), digestLine(1, 10, events[9]?.hash as string, privateKey)];
  writeFileSync(join(cwd, "audit.jsonl"), `${change(lines).join("\n")}\n`);
  return cwd;
}

describe("secrets audit verify", () => {
  it("says an intact trail is intact, exit 0, from a file or standard input", async () => {
    const cwd = setup();
    const run = await cli(["audit", "verify", "audit.jsonl", "--public-key", "audit-signing.pub"], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toEqual([
      "audit.jsonl: 10 events, positions 1..10; 1 valid digests, signed through position 10",
      "the trail is intact",
    ]);
    const stdin = chainedTrail(3)
      .map((e) => e.text)
      .join("\n");
    const piped = await cli(["audit", "verify", "-", "--public-key", "audit-signing.pub"], { cwd, stdin });
    expect(piped.code).toBe(0);
    expect(piped.stdout[1]).toBe("positions after 0 are chained but not yet covered by a digest");
  });

  it("lists each problem with its position and exits 1", async () => {
    const cwd = setup((lines) => {
      const edited = [...lines];
      edited[2] = (edited[2] as string).replace('"success":true', '"success":false');
      edited.splice(6, 1); // position 7 deleted
      return edited;
    });
    const run = await cli(["audit", "verify", "audit.jsonl", "--public-key", "audit-signing.pub"], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout.slice(1)).toEqual([
      "modified   position 3, line 3: its content does not match its hash",
      "missing    position 7: position 7 is missing",
    ]);
    expect(run.stderr).toEqual(["secrets: 2 problem(s): the trail is not intact"]);
  });

  it("needs the public key, and says so", async () => {
    const cwd = setup();
    expect((await cli(["audit", "verify", "audit.jsonl"], { cwd })).code).toBe(2);
    writeFileSync(join(cwd, "bad.pub"), "not a key");
    const bad = await cli(["audit", "verify", "audit.jsonl", "--public-key", "bad.pub"], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toEqual(["secrets: bad.pub: not an Ed25519 public key (audit-signing.pub)"]);
  });
});
