// Strict JSON first, JSONC (comments, trailing commas) second, and a line:column for whatever still fails to parse.
// The stripper blanks comments and trailing commas with spaces instead of deleting them, so every offset in the
// stripped text is the offset in the original file and error positions point at the file the user edits.

export type ParseResult =
  | { ok: true; value: unknown; jsonc: boolean }
  | { ok: false; message: string; line: number; column: number };

const isWhitespace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r";

/** Replaces `//` and `/* *\/` comments and trailing commas outside strings with spaces (newlines are kept). */
export function stripJsonc(text: string): string {
  const out = text.split("");
  const n = text.length;
  let i = 0;
  let lastComma = -1; // offset of a comma that may turn out to be trailing
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n" && out[k] !== "\r") out[k] = " ";
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      lastComma = -1;
      i++;
      while (i < n && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === ",") {
      lastComma = i;
    } else if (c === "}" || c === "]") {
      if (lastComma >= 0) out[lastComma] = " ";
      lastComma = -1;
    } else if (!isWhitespace(c)) {
      lastComma = -1;
    }
    i++;
  }
  return out.join("");
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < Math.min(offset, text.length); k++) {
    if (text[k] === "\n") {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first syntax error in strict JSON text, or -1. Node 20's JSON.parse does not always say where it
 * stopped ("Unexpected token '}'"), so this small validator finds the spot itself.
 */
export function firstErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && isWhitespace(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < n && text[i] !== '"') {
      const ch = text.charCodeAt(i);
      if (ch < 0x20) fail();
      if (text[i] === "\\") {
        const esc = text[i + 1];
        if (esc === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) {
          i += 2;
        } else {
          i++;
          fail();
        }
      } else {
        i++;
      }
    }
    if (i >= n) fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0]) fail();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    return number();
  };
  try {
    value(0);
    ws();
    if (i < n) fail();
    return -1;
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
}

/**
 * Parses `text` as JSON, or as JSONC when `allowJsonc` and strict parsing fails. A leading byte-order mark is
 * ignored (editors on Windows write one).
 */
export function parseJsonOrJsonc(raw: string, allowJsonc: boolean): ParseResult {
  const text = raw.charCodeAt(0) === 0xfeff ? " " + raw.slice(1) : raw;
  try {
    return { ok: true, value: JSON.parse(text), jsonc: false };
  } catch {
    // fall through to JSONC or to locating the error
  }
  const candidate = allowJsonc ? stripJsonc(text) : text;
  if (allowJsonc) {
    try {
      return { ok: true, value: JSON.parse(candidate), jsonc: true };
    } catch {
      // located below
    }
  }
  const offset = firstErrorOffset(candidate);
  const at = lineColumn(text, offset < 0 ? text.length : offset);
  const found = offset >= 0 && offset < text.length ? `unexpected ${JSON.stringify(text[offset])}` : "unexpected end of input";
  return { ok: false, message: `not valid JSON${allowJsonc ? " (even allowing comments and trailing commas)" : ""}: ${found}`, ...at };
}
