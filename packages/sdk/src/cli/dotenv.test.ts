import { describe, expect, it } from "vitest";
import { parseDotenv } from "./dotenv.ts";

const values = (text: string) => Object.fromEntries(parseDotenv(text).entries.map((e) => [e.key, e.value]));

describe("parseDotenv", () => {
  it("skips comments and blank lines, and accepts export and spaces around =", () => {
    const text = "# a comment\n\n   # indented comment\nA=1\nexport B=2\nC = 3\n\texport   D\t=\t4\n";
    expect(parseDotenv(text)).toEqual({
      entries: [
        { key: "A", value: "1", line: 4 },
        { key: "B", value: "2", line: 5 },
        { key: "C", value: "3", line: 6 },
        { key: "D", value: "4", line: 7 },
      ],
      problems: [],
    });
  });

  it("reads unquoted values up to a whitespace-preceded # comment, trimmed", () => {
    expect(
      values(
        "A=plain value   \nB=value # comment\nC=a#b\nD=#hash\nE= # only a comment\nF=\nG=x\t# tab comment",
      ),
    ).toEqual({
      A: "plain value",
      B: "value",
      C: "a#b",
      D: "#hash",
      E: "",
      F: "",
      G: "x",
    });
  });

  it("keeps single-quoted values literally, across lines", () => {
    expect(values("A='a \\n b # not a comment $HOME'\nB='multi\nline' # comment\nC=''")).toEqual({
      A: "a \\n b # not a comment $HOME",
      B: "multi\nline",
      C: "",
    });
  });

  it("reads double-quoted values with escapes, across lines", () => {
    const text =
      'A="line1\\nline2\\ttab \\"quoted\\" back\\\\slash"\nB="real\nnewline" # comment\nC="# not a comment"\nD="\\$x \\q"';
    expect(values(text)).toEqual({
      A: 'line1\nline2\ttab "quoted" back\\slash',
      B: "real\nnewline",
      C: "# not a comment",
      D: "$x \\q",
    });
  });

  it("counts lines across multi-line values and CRLF endings", () => {
    const { entries } = parseDotenv("A=\"1\n2\n3\"\r\nB=4\r\n\r\nC='x\ny'\nD=5");
    expect(entries.map((e) => [e.key, e.line])).toEqual([
      ["A", 1],
      ["B", 4],
      ["C", 6],
      ["D", 8],
    ]);
    expect(entries[0]?.value).toBe("1\n2\n3");
  });

  it("reports problems by line, never quoting a value", () => {
    const text =
      'OK=1\nnot an assignment\nB="closed" trailing-secret-text\nOK=2\nC="never closed secret-value\nD=4';
    const { entries, problems } = parseDotenv(text);
    expect(problems).toEqual([
      { line: 2, message: "expected KEY=VALUE" },
      { line: 3, message: "B: unexpected text after the closing quote" },
      { line: 4, message: "OK is already defined on line 1" },
      { line: 5, message: "C: unterminated double quote (the value opened here never closes)" },
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/secret/);
    expect(entries.map((e) => e.key)).toEqual(["OK", "B"]);
    expect(parseDotenv("A='open\nB=1").problems).toEqual([
      { line: 1, message: "A: unterminated single quote (the value opened here never closes)" },
    ]);
  });
});
