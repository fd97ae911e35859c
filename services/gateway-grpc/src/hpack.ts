/**
 * Just enough HPACK (RFC 7541) for `header-block-guard.ts`: a decoder that mirrors the client's encoder
 * state and bounds what it keeps, and an encoder that writes only literals without indexing, so the
 * decoder behind the guard (Bun's) never holds dynamic-table state that the guard would have to track.
 */

/** RFC 7541 Appendix A, index 1 to 61. */
const staticTable: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/**
 * Huffman code lengths of symbols 0..255 and EOS (256), RFC 7541 Appendix B. The code is canonical, so
 * the codes themselves follow from the lengths (checked against the RFC's codes in `hpack.test.ts`).
 */
const huffmanLengths = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
] as const;

const eos = 256;

/** Canonical decoding tables: for each code length, the first code, how many codes and where they start. */
const huffman = (() => {
  const symbols = huffmanLengths
    .map((length, symbol) => ({ length, symbol }))
    .sort((a, b) => a.length - b.length || a.symbol - b.symbol);
  const firstCode = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  const offset = new Array<number>(31).fill(0);
  const codes = new Array<number>(257).fill(0);
  let code = 0;
  let previous = 0;
  symbols.forEach(({ length, symbol }, index) => {
    code *= 2 ** (length - previous);
    previous = length;
    if (count[length] === 0) {
      firstCode[length] = code;
      offset[length] = index;
    }
    count[length] = (count[length] ?? 0) + 1;
    codes[symbol] = code;
    code += 1;
  });
  return { firstCode, count, offset, sorted: symbols.map((s) => s.symbol), codes };
})();

/** The canonical Huffman code of each symbol (exported for the test against the RFC). */
export const huffmanCodes: readonly number[] = huffman.codes;

/** A header block the guard cannot decode: the connection is closed (COMPRESSION_ERROR). */
export class HpackError extends Error {
  override readonly name = "HpackError";
}

/**
 * Decodes Huffman-coded `input`. With `keep` false only the decoded length is counted, so a huge value
 * costs no memory; counting stops (returning `stopAfter + 1`) once the length passes `stopAfter`.
 */
function decodeHuffman(input: Buffer, keep: boolean, stopAfter = Number.POSITIVE_INFINITY) {
  const out: number[] = [];
  let length = 0;
  let code = 0;
  let bits = 0;
  let allOnes = true;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      code = code * 2 + one;
      bits += 1;
      allOnes &&= one === 1;
      const first = huffman.firstCode[bits] ?? 0;
      const n = huffman.count[bits] ?? 0;
      if (n > 0 && code >= first && code - first < n) {
        const symbol = huffman.sorted[(huffman.offset[bits] ?? 0) + code - first] ?? eos;
        if (symbol === eos) throw new HpackError("Huffman string contains EOS");
        if (keep) out.push(symbol);
        length += 1;
        if (length > stopAfter) return { length, bytes: undefined };
        code = 0;
        bits = 0;
        allOnes = true;
      } else if (bits > 30) {
        throw new HpackError("invalid Huffman code");
      }
    }
  }
  // Padding is at most 7 bits, all ones (the start of EOS).
  if (bits > 7 || !allOnes) throw new HpackError("invalid Huffman padding");
  return { length, bytes: keep ? Buffer.from(out) : undefined };
}

interface Entry {
  name: Buffer;
  value: Buffer;
}

const entryOverhead = 32;

export interface DecodedBlock {
  /** The header list, or only its first headers when it outgrew `keepBytes`. */
  headers: [Buffer, Buffer][];
  /** Size of the header list as RFC 7540 §6.5.2 counts it (name + value + 32 per header). */
  listBytes: number;
  /** True when the list outgrew `keepBytes`: `headers` is then incomplete. */
  truncated: boolean;
}

/** The decoding half of one connection's HPACK context (client to server). */
export class HpackDecoder {
  private readonly table: Entry[] = [];
  private tableBytes = 0;
  private maxTableBytes: number;

  /** `tableLimit` is the SETTINGS_HEADER_TABLE_SIZE the server advertised (4096 by default). */
  constructor(private readonly tableLimit = 4096) {
    this.maxTableBytes = tableLimit;
  }

  /**
   * Decodes one complete header block; keeps headers only while the list is at most `keepBytes`, except
   * those `alwaysKeep` names (whatever comes before them).
   */
  decode(
    block: Buffer,
    keepBytes: number,
    alwaysKeep: (name: Buffer) => boolean = () => false,
  ): DecodedBlock {
    const headers: [Buffer, Buffer][] = [];
    let listBytes = 0;
    let position = 0;
    const integer = (prefixBits: number): number => {
      const max = (1 << prefixBits) - 1;
      let value = (block[position++] ?? 0) & max;
      if (value < max) return value;
      let shift = 0;
      for (;;) {
        if (position >= block.length) throw new HpackError("truncated integer");
        const byte = block[position++] ?? 0;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if (value > 0x7fffffff) throw new HpackError("integer too large");
        if ((byte & 0x80) === 0) return value;
      }
    };
    /** A string literal: decoded when `keep`, otherwise only its decoded length (up to `stopAfter`). */
    const string = (keep: boolean, stopAfter?: number): { length: number; bytes: Buffer | undefined } => {
      if (position >= block.length) throw new HpackError("truncated string");
      const huffmanCoded = ((block[position] ?? 0) & 0x80) !== 0;
      const length = integer(7);
      if (position + length > block.length) throw new HpackError("truncated string");
      const raw = block.subarray(position, position + length);
      position += length;
      if (!huffmanCoded) return { length, bytes: keep ? Buffer.from(raw) : undefined };
      return decodeHuffman(raw, keep, stopAfter);
    };
    const lookup = (index: number): Entry => {
      if (index === 0) throw new HpackError("index 0");
      const fixed = staticTable[index - 1];
      if (fixed) return { name: Buffer.from(fixed[0]), value: Buffer.from(fixed[1]) };
      const entry = this.table[index - staticTable.length - 1];
      if (!entry) throw new HpackError(`index ${index} is not in the table`);
      return entry;
    };
    const emit = (name: Buffer, value: Buffer | undefined, size: number) => {
      listBytes += size + entryOverhead;
      if (value !== undefined && (listBytes <= keepBytes || alwaysKeep(name))) headers.push([name, value]);
    };

    while (position < block.length) {
      const first = block[position] ?? 0;
      if (first & 0x80) {
        const entry = lookup(integer(7));
        emit(entry.name, entry.value, entry.name.length + entry.value.length);
      } else if ((first & 0xe0) === 0x20) {
        const size = integer(5);
        if (size > this.tableLimit) throw new HpackError(`table size ${size} over ${this.tableLimit}`);
        this.maxTableBytes = size;
        this.evictTo(size);
      } else {
        const indexing = (first & 0xc0) === 0x40;
        const nameIndex = integer(indexing ? 6 : 4);
        const name = nameIndex === 0 ? string(true).bytes : lookup(nameIndex).name;
        if (!name) throw new HpackError("missing name");
        // An inserted value must be known exactly (up to the table size) to keep the table in step.
        const fits = listBytes + name.length + entryOverhead <= keepBytes || alwaysKeep(name);
        const value = string(fits || indexing, fits ? undefined : indexing ? this.maxTableBytes : undefined);
        emit(name, fits ? value.bytes : undefined, name.length + value.length);
        if (indexing) this.insert(name, value.bytes, name.length + value.length + entryOverhead);
      }
    }
    return { headers, listBytes, truncated: listBytes > keepBytes };
  }

  private insert(name: Buffer, value: Buffer | undefined, size: number): void {
    // An entry larger than the table empties it (RFC 7541 §4.4).
    if (value === undefined || size > this.maxTableBytes) {
      this.table.length = 0;
      this.tableBytes = 0;
      return;
    }
    this.evictTo(this.maxTableBytes - size);
    this.table.unshift({ name, value });
    this.tableBytes += size;
  }

  private evictTo(bytes: number): void {
    while (this.tableBytes > bytes) {
      const oldest = this.table.pop();
      if (!oldest) break;
      this.tableBytes -= oldest.name.length + oldest.value.length + entryOverhead;
    }
  }
}

function encodeInteger(value: number, prefixBits: number, flags: number, out: number[]): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) + 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Encodes headers as literals without indexing, new names, no Huffman: no dynamic-table state at all. */
export function encodeLiterals(headers: readonly (readonly [Buffer, Buffer])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const prefix: number[] = [0x00];
    encodeInteger(name.length, 7, 0, prefix);
    parts.push(Buffer.from(prefix), name);
    const valuePrefix: number[] = [];
    encodeInteger(value.length, 7, 0, valuePrefix);
    parts.push(Buffer.from(valuePrefix), value);
  }
  return Buffer.concat(parts);
}
