// Streamed, bounded reading of a pushed JSON document. stream-json tokenizes the bytes chunk by chunk; this walker
// keeps the JSON pointer of where it is, asks a visitor which values it wants, and assembles only those (one
// SARIF result, one CycloneDX component) — never the whole document. Every limit is enforced while reading, so a
// hostile document fails with a message and a JSON pointer instead of exhausting memory: nesting depth, string
// length, number length, and the size of any one assembled value.
import { jsonParser } from "stream-json/core/parser.js";
import type { Token } from "stream-json/core/parser.js";

// stream-chain's well-known symbols (registered with Symbol.for, so no import of that package is needed).
const NONE = Symbol.for("object-stream.none");
const MANY = Symbol.for("object-stream.many");

export interface StreamLimits {
  /** Deepest nesting of objects and arrays anywhere in the document. */
  maxDepth: number;
  /** Longest string kept, in characters; longer strings are cut (and the cut is reported once). */
  maxStringChars: number;
  /** Longest object key, in characters (keys that long are hostile: the document fails). */
  maxKeyChars: number;
  /** Most nodes (values of any kind) in one assembled value. */
  maxNodesPerValue: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxDepth: 64, maxStringChars: 64 * 1024, maxKeyChars: 1024, maxNodesPerValue: 200_000 };

const MAX_NUMBER_CHARS = 100;
const SLICE_CHARS = 1024;

export type DocumentErrorKind = "syntax" | "encoding" | "depth" | "size" | "type" | "format" | "limit";

/** What is wrong with the document and where (a JSON pointer, or "byte N" for bytes that are not text). */
export class DocumentError extends Error {
  constructor(
    readonly kind: DocumentErrorKind,
    message: string,
    readonly where: string,
  ) {
    super(message);
    this.name = "DocumentError";
  }
}

export type PathSegment = string | number;
export type ValueKind = "object" | "array" | "string" | "number" | "boolean" | "null";

/** What the visitor wants done with the value that starts at a path. */
export const enum Want {
  /** Not this value itself, but ask again for each of its children (containers only). */
  Descend = 0,
  /** Assemble it and hand it to onValue. */
  Assemble = 1,
  /** Ignore it and everything inside it. */
  Skip = 2,
}

export interface JsonVisitor {
  want(path: readonly PathSegment[], kind: ValueKind): Want;
  onValue(path: readonly PathSegment[], value: unknown): void;
}

/** RFC 6901 JSON pointer of a path. */
export function pointerOf(path: readonly PathSegment[]): string {
  if (!path.length) return "";
  let out = "";
  for (const seg of path) out += "/" + (typeof seg === "number" ? String(seg) : seg.replace(/~/g, "~0").replace(/\//g, "~1"));
  return out;
}

/** Pointer for messages: the root is shown as "/" rather than the empty string. */
export function whereOf(path: readonly PathSegment[]): string {
  return pointerOf(path) || "/";
}

interface Frame {
  kind: "object" | "array";
  mode: Want;
  /** Object frames: the key of the member being read (null before the first key). */
  key: string | null;
  /** Array frames: index of the element being read (-1 before the first). */
  index: number;
  /** The container being built (Assemble mode only). */
  target: Record<string, unknown> | unknown[] | null;
  /** True for the frame where an assembly started (its value goes to onValue when it closes). */
  assemblyRoot: boolean;
}

export interface WalkStats {
  bytes: number;
  /** Strings that were longer than maxStringChars and were cut. */
  truncatedStrings: number;
  firstTruncatedAt: string | null;
}

function setMember(target: Record<string, unknown>, key: string, value: unknown) {
  // A "__proto__" member becomes an own property, as JSON.parse does; the object's prototype is never touched.
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Walks a UTF-8 JSON document from `chunks`, calling the visitor. Throws DocumentError for anything wrong with the
 * document; other errors (I/O, abort) pass through untouched.
 */
export async function walkJson(chunks: AsyncIterable<Buffer | Uint8Array>, visitor: JsonVisitor, limits: StreamLimits = DEFAULT_STREAM_LIMITS, signal?: AbortSignal): Promise<WalkStats> {
  const parse = jsonParser({ packValues: false, streamValues: true });
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const stats: WalkStats = { bytes: 0, truncatedStrings: 0, firstTruncatedAt: null };
  const frames: Frame[] = [];
  let sawRoot = false;
  let finished = false;

  // The value being read right now (strings, keys and numbers arrive in chunks).
  // Chunks are concatenated (V8 keeps them as a rope until read): no array per string value.
  let text = "";
  let textTruncated = false;
  let keepText = false;
  let scalarMode: Want = Want.Skip;
  // Nodes in the current assembly.
  let nodes = 0;

  const currentPath = (): PathSegment[] => {
    const out: PathSegment[] = [];
    for (const f of frames) {
      if (f.kind === "object") {
        if (f.key !== null) out.push(f.key);
      } else if (f.index >= 0) out.push(f.index);
    }
    return out;
  };
  const fail = (kind: DocumentErrorKind, message: string): never => {
    throw new DocumentError(kind, message, whereOf(currentPath()));
  };

  /** A value starts: decide its mode from the enclosing frame (or ask the visitor), and count it. */
  const begin = (kind: ValueKind): Want => {
    const parent = frames[frames.length - 1];
    let mode: Want;
    if (!parent) {
      if (sawRoot) fail("syntax", "more than one JSON value in the document");
      sawRoot = true;
      mode = visitor.want([], kind);
    } else {
      if (parent.kind === "array") parent.index++;
      mode = parent.mode === Want.Descend ? visitor.want(currentPath(), kind) : parent.mode;
    }
    if (mode === Want.Assemble && (!parent || parent.mode !== Want.Assemble)) nodes = 0;
    if (mode === Want.Assemble && ++nodes > limits.maxNodesPerValue) fail("size", `value is too large: more than ${limits.maxNodesPerValue} nested values in one entry`);
    return mode;
  };

  /** A complete value (scalar or closed container) in `mode`: attach it to its parent or hand it to the visitor. */
  const complete = (mode: Want, value: unknown, isAssemblyRoot: boolean) => {
    if (mode !== Want.Assemble) return;
    if (isAssemblyRoot) {
      visitor.onValue(currentPath(), value);
      return;
    }
    const parent = frames[frames.length - 1]!;
    if (parent.kind === "array") (parent.target as unknown[]).push(value);
    else setMember(parent.target as Record<string, unknown>, parent.key!, value);
  };

  const open = (kind: "object" | "array") => {
    const mode = begin(kind);
    const parent = frames[frames.length - 1];
    const assemblyRoot = mode === Want.Assemble && (!parent || parent.mode !== Want.Assemble);
    frames.push({ kind, mode, key: null, index: -1, target: mode === Want.Assemble ? (kind === "object" ? {} : []) : null, assemblyRoot });
    if (frames.length > limits.maxDepth) fail("depth", `nesting is deeper than ${limits.maxDepth} levels`);
  };

  const close = () => {
    const frame = frames.pop()!;
    if (frames.length === 0) finished = true;
    if (frame.mode !== Want.Assemble) return;
    // The container's own path: its parent's current key or index.
    if (frame.assemblyRoot) {
      visitor.onValue(currentPath(), frame.target);
      return;
    }
    const parent = frames[frames.length - 1]!;
    if (parent.kind === "array") (parent.target as unknown[]).push(frame.target);
    else setMember(parent.target as Record<string, unknown>, parent.key!, frame.target);
  };

  const startText = (keep: boolean) => {
    text = "";
    textTruncated = false;
    keepText = keep;
  };
  const addText = (chunk: string, max: number, what: "string" | "key" | "number") => {
    if (!keepText && what === "string") return;
    if (text.length + chunk.length > max) {
      if (what === "key") fail("size", `an object key is longer than ${max} characters`);
      if (what === "number") fail("syntax", `a number is longer than ${max} characters`);
      const room = max - text.length;
      if (room > 0) text += chunk.slice(0, room);
      if (!textTruncated) {
        textTruncated = true;
        stats.truncatedStrings++;
        stats.firstTruncatedAt ??= whereOf(currentPath());
      }
      return;
    }
    text += chunk;
  };
  const takeText = () => text;

  const scalar = (kind: ValueKind, value: unknown) => {
    const mode = begin(kind);
    const parent = frames[frames.length - 1];
    if (!parent) {
      // A bare scalar document: the visitor gets to see it (and will reject it).
      if (mode === Want.Assemble) visitor.onValue([], value);
      finished = true;
      return;
    }
    complete(mode, value, mode === Want.Assemble && parent.mode !== Want.Assemble);
  };

  let inKey = false;
  const onToken = (t: Token) => {
    switch (t.name) {
      case "startObject":
        open("object");
        return;
      case "startArray":
        open("array");
        return;
      case "endObject":
      case "endArray":
        close();
        return;
      case "startKey":
        inKey = true;
        startText(true);
        return;
      case "endKey": {
        inKey = false;
        const frame = frames[frames.length - 1]!;
        frame.key = takeText();
        return;
      }
      case "startString": {
        scalarMode = begin("string");
        startText(scalarMode === Want.Assemble);
        return;
      }
      case "stringChunk":
        if (inKey) addText(t.value, limits.maxKeyChars, "key");
        else addText(t.value, limits.maxStringChars, "string");
        return;
      case "endString": {
        const parent = frames[frames.length - 1];
        if (!parent) {
          if (scalarMode === Want.Assemble) visitor.onValue([], takeText());
          finished = true;
          return;
        }
        complete(scalarMode, scalarMode === Want.Assemble ? takeText() : null, scalarMode === Want.Assemble && parent.mode !== Want.Assemble);
        return;
      }
      case "startNumber":
        scalarMode = begin("number");
        startText(true);
        return;
      case "numberChunk":
        addText(t.value, MAX_NUMBER_CHARS, "number");
        return;
      case "endNumber": {
        const parent = frames[frames.length - 1];
        const value = Number(takeText());
        if (!parent) {
          if (scalarMode === Want.Assemble) visitor.onValue([], value);
          finished = true;
          return;
        }
        complete(scalarMode, value, scalarMode === Want.Assemble && parent.mode !== Want.Assemble);
        return;
      }
      case "nullValue":
        scalar("null", null);
        return;
      case "trueValue":
        scalar("boolean", true);
        return;
      case "falseValue":
        scalar("boolean", false);
        return;
      default:
        return;
    }
  };

  const feed = (input: string | typeof NONE) => {
    let out: unknown;
    try {
      out = (parse as unknown as (x: unknown) => unknown)(input);
    } catch (err) {
      if (err instanceof DocumentError) throw err;
      const raw = (err as Error).message ?? "parse error";
      const truncatedInput = input === NONE && /expected|has expected/.test(raw);
      if (truncatedInput && (frames.length > 0 || !sawRoot)) fail("syntax", sawRoot ? "the document ends early (truncated?): unclosed object or array" : "the document is empty");
      fail("syntax", `not valid JSON: ${raw.replace(/^Parser (cannot parse input|has expected)[: ]*/i, "").trim() || raw}`);
    }
    if (out === NONE || out === undefined || out === null) return;
    const many = out as { [MANY]?: 1; values?: Token[] };
    if (many[MANY] === 1) {
      const values = many.values!;
      for (let i = 0; i < values.length; i++) onToken(values[i]!);
    } else {
      onToken(out as Token);
    }
  };

  // Decoded text is fed in small slices: when the tokenizer throws, the tokens of the slice it was working on are
  // lost, so the slice size bounds how far the reported pointer can trail the error (and the line is counted per slice).
  let line = 1;
  const feedText = (decoded: string) => {
    for (let i = 0; i < decoded.length; i += SLICE_CHARS) {
      const slice = decoded.length <= SLICE_CHARS ? decoded : decoded.slice(i, i + SLICE_CHARS);
      try {
        feed(slice);
      } catch (err) {
        if (err instanceof DocumentError && err.kind === "syntax") throw new DocumentError("syntax", `${err.message} (at or after line ${line})`, err.where);
        throw err;
      }
      for (let at = slice.indexOf("\n"); at !== -1; at = slice.indexOf("\n", at + 1)) line++;
    }
  };

  let first = true;
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    const bytes = chunk instanceof Buffer ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (first && bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
      throw new DocumentError("encoding", "the document is UTF-16: send UTF-8 JSON", "byte 0");
    }
    first = false;
    let decoded: string;
    try {
      decoded = decoder.decode(bytes, { stream: true });
    } catch {
      throw new DocumentError("encoding", "the document is not valid UTF-8 text", `byte ${stats.bytes}–${stats.bytes + bytes.length}`);
    }
    stats.bytes += bytes.length;
    if (finished && decoded.trim()) fail("syntax", "unexpected content after the end of the JSON document");
    feedText(decoded);
  }
  try {
    const tail = decoder.decode();
    if (tail) feedText(tail);
  } catch {
    throw new DocumentError("encoding", "the document ends in the middle of a UTF-8 character", `byte ${stats.bytes}`);
  }
  feed(NONE);
  if (!sawRoot) throw new DocumentError("syntax", "the document is empty", "/");
  if (frames.length > 0) fail("syntax", "the document ends early (truncated?): unclosed object or array");
  return stats;
}
