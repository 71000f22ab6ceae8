// `cairn audit verify FILE`: checks an audit export offline (no database, no configuration). Recomputes every
// event's hash, follows seq and prev_hash from the genesis, matches the head line against the last event, and checks
// the head's Ed25519 signature, against a pinned public key when one is given.
import fs from "node:fs";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { auditHash, canonicalJson, GENESIS_HASH, type AuditRecord } from "../domain/audit/canonical.ts";
import { publicKeyFingerprint } from "../domain/audit/signing-key.service.ts";

export const auditUsage = `Usage: cairn audit verify FILE [--public-key PEM_OR_FILE] [--json]

Checks an audit export (JSON Lines from GET /v1/audit/export or the Audit page) without a database:
every event's hash, the seq and prev_hash links from the first event, the head line, and its signature.

Options:
  --public-key KEY   The export signing key to trust (PEM text, a PEM file, or base64): from GET /v1/audit/public-key.
                     Without it, the signature is checked against the key the file carries.
  --json             Print the result as one JSON object

Exit status: 0 intact, 1 tampered or incomplete, 2 usage error.
`;

export type OfflineBreakReason =
  | "invalid_json"
  | "invalid_record"
  | "chain_mismatch"
  | "missing_seq"
  | "seq_out_of_order"
  | "prev_hash_mismatch"
  | "hash_mismatch"
  | "line_after_head"
  | "head_missing"
  | "head_mismatch"
  | "signature_invalid"
  | "key_not_pinned";

export interface OfflineBreak {
  line: number;
  seq: number | null;
  reason: OfflineBreakReason;
  message: string;
  expected?: string;
  found?: string;
}

export interface OfflineVerification {
  ok: boolean;
  file: string;
  events: number;
  chain: string | null;
  head_seq: number | null;
  head_hash: string | null;
  key_id: string | null;
  fingerprint: string | null;
  pinned: boolean;
  first_broken: OfflineBreak | null;
}

class Usage extends Error {}

const stringFields = ["event_id", "chain", "prev_hash", "hash", "actor", "actor_type", "target_type", "action", "outcome", "timestamp"] as const;
const nullableFields = ["tenant_id", "target_id", "request_id", "trace_id", "ip"] as const;
const recordKeys = new Set<string>([...stringFields, ...nullableFields, "seq", "details"]);
const headKeys = new Set(["type", "chain", "seq", "hash", "count", "exported_at", "key_id", "public_key", "signature"]);

/** The reason a parsed line is not an event record, or null when it is one. */
function recordProblem(o: Record<string, unknown>): string | null {
  for (const key of Object.keys(o)) if (!recordKeys.has(key)) return `unexpected field "${key}"`;
  for (const key of stringFields) if (typeof o[key] !== "string") return `"${key}" must be a string`;
  for (const key of nullableFields) if (o[key] !== null && typeof o[key] !== "string") return `"${key}" must be a string or null`;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) return `"seq" must be a positive integer`;
  if (typeof o.details !== "object" || o.details === null || Array.isArray(o.details)) return `"details" must be an object`;
  return null;
}

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** PEM text, a file holding PEM or base64, or base64 itself (SPKI DER or the raw 32-byte key). */
export function parsePublicKey(value: string): KeyObject {
  let text = value.trim();
  if (!text.startsWith("-----BEGIN") && fs.existsSync(text)) {
    try {
      text = fs.readFileSync(text, "utf8").trim();
    } catch (err) {
      throw new Usage(`--public-key: cannot read ${value} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  let key: KeyObject;
  try {
    if (text.startsWith("-----BEGIN")) key = createPublicKey(text);
    else {
      const bytes = Buffer.from(text, "base64");
      const der = bytes.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, bytes]) : bytes;
      key = createPublicKey({ key: der, format: "der", type: "spki" });
    }
  } catch {
    throw new Usage("--public-key: not a public key (expected PEM, a PEM file, or base64 from GET /v1/audit/public-key)");
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Usage(`--public-key: an Ed25519 key is needed, this is ${key.asymmetricKeyType ?? "unknown"}`);
  return key;
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: "spki", format: "der" }).equals(b.export({ type: "spki", format: "der" }));
}

/** Verifies one export file; never throws for tampering (that is a result), only for files it cannot open. */
export async function verifyExportFile(file: string, pinned?: KeyObject): Promise<OfflineVerification> {
  const result: OfflineVerification = { ok: false, file, events: 0, chain: null, head_seq: null, head_hash: null, key_id: null, fingerprint: null, pinned: false, first_broken: null };
  const broken = (b: OfflineBreak) => ({ ...result, first_broken: b });

  let lineNo = 0;
  let prevHash = GENESIS_HASH;
  let lastSeq = 0;
  let head: Record<string, unknown> | null = null;
  let headLine = 0;

  const input = fs.createReadStream(file, { encoding: "utf8" });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNo += 1;
      const seqHint = lastSeq + 1;
      if (head) return broken({ line: lineNo, seq: null, reason: "line_after_head", message: `a line follows the head line (line ${headLine})` });
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return broken({ line: lineNo, seq: seqHint, reason: "invalid_json", message: line.trim() === "" ? "blank line" : "not valid JSON" });
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return broken({ line: lineNo, seq: seqHint, reason: "invalid_record", message: "not a JSON object" });
      }
      const o = parsed as Record<string, unknown>;
      if (o.type === "head") {
        head = o;
        headLine = lineNo;
        continue;
      }
      const problem = recordProblem(o);
      if (problem) return broken({ line: lineNo, seq: typeof o.seq === "number" ? o.seq : seqHint, reason: "invalid_record", message: problem });
      const record = o as unknown as AuditRecord & { hash: string };
      result.chain ??= record.chain;
      if (record.chain !== result.chain) {
        return broken({ line: lineNo, seq: record.seq, reason: "chain_mismatch", message: "the event belongs to another chain", expected: result.chain, found: record.chain });
      }
      if (record.seq !== lastSeq + 1) {
        const missing = record.seq > lastSeq + 1;
        return broken({
          line: lineNo,
          seq: record.seq,
          reason: missing ? "missing_seq" : "seq_out_of_order",
          message: missing ? `seq ${lastSeq + 1} is missing here (an event was removed or moved)` : `seq ${record.seq} comes after seq ${lastSeq} (events were moved or repeated)`,
          expected: String(lastSeq + 1),
          found: String(record.seq),
        });
      }
      if (record.prev_hash !== prevHash) {
        return broken({ line: lineNo, seq: record.seq, reason: "prev_hash_mismatch", message: "prev_hash does not point at the previous event", expected: prevHash, found: record.prev_hash });
      }
      const recomputed = auditHash(record);
      if (recomputed !== record.hash) {
        return broken({ line: lineNo, seq: record.seq, reason: "hash_mismatch", message: "the event's content does not match its hash (it was edited)", expected: recomputed, found: record.hash });
      }
      result.events += 1;
      lastSeq = record.seq;
      prevHash = record.hash;
    }
  } finally {
    lines.close();
    input.destroy();
  }

  if (!head) return broken({ line: lineNo + 1, seq: null, reason: "head_missing", message: "the file ends without its signed head line (incomplete or cut)" });
  for (const key of Object.keys(head)) {
    if (!headKeys.has(key)) return broken({ line: headLine, seq: null, reason: "head_mismatch", message: `the head has an unexpected field "${key}"` });
  }
  result.head_seq = typeof head.seq === "number" ? head.seq : null;
  result.head_hash = typeof head.hash === "string" ? head.hash : null;
  result.key_id = typeof head.key_id === "string" ? head.key_id : null;
  const mismatch = (what: string, expected: unknown, found: unknown) =>
    broken({ line: headLine, seq: result.head_seq, reason: "head_mismatch", message: `the head's ${what} does not match the events`, expected: String(expected), found: String(found) });
  if (result.chain !== null && head.chain !== result.chain) return mismatch("chain", result.chain, head.chain);
  if (head.seq !== lastSeq) return mismatch("seq", lastSeq, head.seq);
  if (head.hash !== prevHash) return mismatch("hash", prevHash, head.hash);
  if (head.count !== result.events) return mismatch("count", result.events, head.count);

  let embedded: KeyObject;
  try {
    embedded = createPublicKey(String(head.public_key));
    if (embedded.asymmetricKeyType !== "ed25519") throw new Error("not ed25519");
  } catch {
    return broken({ line: headLine, seq: result.head_seq, reason: "signature_invalid", message: "the head's public_key is not an Ed25519 public key" });
  }
  result.fingerprint = publicKeyFingerprint(embedded);
  const { signature, ...unsigned } = head;
  let signed = false;
  try {
    signed = typeof signature === "string" && verify(null, Buffer.from(canonicalJson(unsigned)), embedded, Buffer.from(signature, "base64"));
  } catch {
    signed = false;
  }
  if (!signed) return broken({ line: headLine, seq: result.head_seq, reason: "signature_invalid", message: "the head's signature does not verify (the head was edited)" });
  if (pinned) {
    if (!sameKey(pinned, embedded)) {
      return broken({ line: headLine, seq: result.head_seq, reason: "key_not_pinned", message: "the file is signed by a different key than the one given with --public-key", expected: publicKeyFingerprint(pinned), found: result.fingerprint });
    }
    result.pinned = true;
  }
  return { ...result, ok: true };
}

function describe(r: OfflineVerification): string {
  if (r.ok) {
    const trust = r.pinned ? "the pinned key" : "the key embedded in the file (pin it with --public-key to rule out a re-signed file)";
    return `OK: ${r.events} events intact in chain ${r.chain}, head seq ${r.head_seq} hash ${r.head_hash}\nSigned by key ${r.key_id} (fingerprint ${r.fingerprint}), checked against ${trust}.\n`;
  }
  const b = r.first_broken!;
  let text = `TAMPERED: line ${b.line}${b.seq !== null ? ` (seq ${b.seq})` : ""}: ${b.reason}: ${b.message}\n`;
  if (b.expected !== undefined) text += `  expected: ${b.expected}\n  found:    ${b.found}\n`;
  if (r.events > 0) text += `${r.events} events before it are intact.\n`;
  return text;
}

/** PEM text starts with dashes, which parseArgs would take for an option: `--public-key -----BEGIN…` becomes `--public-key=…`. */
function joinPemValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--public-key" && args[i + 1]?.startsWith("-----BEGIN")) out.push(`--public-key=${args[++i]}`);
    else out.push(args[i]!);
  }
  return out;
}

/** `cairn audit verify FILE [--public-key KEY] [--json]` (args after `verify`). Exit 0 intact, 1 tampered, 2 usage. */
export async function auditVerify(args: string[]): Promise<number> {
  let file: string;
  let json: boolean;
  let pinned: KeyObject | undefined;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: joinPemValues(args), options: { "public-key": { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } }, strict: true, allowPositionals: true });
    } catch (err) {
      throw new Usage((err as Error).message);
    }
    if (parsed.values.help) {
      process.stdout.write(auditUsage);
      return 0;
    }
    if (parsed.positionals.length !== 1) throw new Usage(parsed.positionals.length ? "Give exactly one FILE" : "Missing FILE");
    file = parsed.positionals[0]!;
    json = parsed.values.json;
    try {
      if (!fs.statSync(file).isFile()) throw new Usage(`${file} is not a file`);
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      if (err instanceof Usage) throw err;
      throw new Usage(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (parsed.values["public-key"] !== undefined) pinned = parsePublicKey(parsed.values["public-key"]);
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    process.stderr.write(`cairn audit verify: ${err.message}\n\n${auditUsage}`);
    return 2;
  }

  const result = await verifyExportFile(file, pinned);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : describe(result));
  return result.ok ? 0 : 1;
}

/** `cairn audit <subcommand> …`: today only `verify`. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "verify") return auditVerify(rest);
  if (sub === "-h" || sub === "--help" || sub === "help") {
    process.stdout.write(auditUsage);
    return 0;
  }
  process.stderr.write(`cairn audit: ${sub ? `unknown subcommand ${sub}` : "missing subcommand"}\n\n${auditUsage}`);
  return 2;
}
