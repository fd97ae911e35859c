/**
 * A `.env` parser for importing secrets. It reports problems by line number and never quotes a value
 * (a problem's message names at most the key).
 *
 * - `# comments` and blank lines; an optional `export ` before the key; spaces around `=`.
 * - Single quotes: literal, may span lines.
 * - Double quotes: `\n`, `\r`, `\t`, `\"`, `\\` (and `\$`) escapes, may span lines; no `$VAR` expansion.
 * - Unquoted: trimmed, up to a ` #` comment (a `#` not preceded by whitespace is part of the value).
 * - A key defined twice is a problem (an import should not silently pick one).
 */

export interface DotenvEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

export interface DotenvProblem {
  line: number;
  message: string;
}

const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$" };

/** Reads a quoted value starting just after the opening quote at `text[start - 1]`. */
function readQuoted(
  text: string,
  start: number,
  quote: "'" | '"',
): { value: string; end: number } | undefined {
  let value = "";
  for (let i = start; i < text.length; i++) {
    const char = text[i] as string;
    if (char === quote) return { value, end: i + 1 };
    if (quote === '"' && char === "\\" && i + 1 < text.length) {
      const next = text[i + 1] as string;
      value += escapes[next] ?? `\\${next}`;
      i++;
      continue;
    }
    value += char;
  }
  return undefined;
}

const newlines = (text: string, from: number, to: number) => {
  let count = 0;
  for (let i = from; i < to && i < text.length; i++) if (text.charCodeAt(i) === 10) count++;
  return count;
};

export function parseDotenv(input: string): { entries: DotenvEntry[]; problems: DotenvProblem[] } {
  const text = input.replace(/\r\n?/g, "\n");
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  const firstLine = new Map<string, number>();
  let position = 0;
  let line = 1;
  const endOfLine = (from: number) => {
    const end = text.indexOf("\n", from);
    return end === -1 ? text.length : end;
  };
  while (position < text.length) {
    const lineEnd = endOfLine(position);
    const lineText = text.slice(position, lineEnd);
    let next = lineEnd + 1;
    const trimmed = lineText.trim();
    const assignment = /^\s*(?:export\s+)?([^=\s]+)\s*=/.exec(lineText);
    if (trimmed === "" || trimmed.startsWith("#")) {
      // a blank line or a comment
    } else if (!assignment) {
      problems.push({ line, message: "expected KEY=VALUE" });
    } else {
      const key = assignment[1] as string;
      let valueStart = position + assignment[0].length;
      while (text[valueStart] === " " || text[valueStart] === "\t") valueStart++;
      const first = text[valueStart];
      let value: string;
      if (first === "'" || first === '"') {
        const quoted = readQuoted(text, valueStart + 1, first);
        if (!quoted) {
          const kind = first === "'" ? "single" : "double";
          problems.push({
            line,
            message: `${key}: unterminated ${kind} quote (the value opened here never closes)`,
          });
          break;
        }
        value = quoted.value;
        const restEnd = endOfLine(quoted.end);
        const rest = text.slice(quoted.end, restEnd);
        if (rest.trim() !== "" && !/^\s+#/.test(rest)) {
          const at = line + newlines(text, position, quoted.end);
          problems.push({ line: at, message: `${key}: unexpected text after the closing quote` });
        }
        next = restEnd + 1;
      } else {
        // Unquoted: a comment starts at a "#" preceded by whitespace (the one before the value included).
        const raw = text.slice(position + assignment[0].length, lineEnd);
        const comment = /\s#/.exec(raw);
        value = (comment ? raw.slice(0, comment.index) : raw).trim();
      }
      const seen = firstLine.get(key);
      if (seen !== undefined) problems.push({ line, message: `${key} is already defined on line ${seen}` });
      else {
        firstLine.set(key, line);
        entries.push({ key, value, line });
      }
    }
    line += newlines(text, position, next);
    position = next;
  }
  return { entries, problems };
}
