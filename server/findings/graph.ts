// Checking a producer's graph before it is materialized: every asset needs a string id and type (ids unique),
// every relation must join two assets of the graph, every finding needs a rule. Bad entries are dropped and
// reported with a JSON pointer; sizes are capped so a hostile document cannot blow up a row.
import { createHash } from "node:crypto";
import { severities, type Severity } from "../../db/schema/findings.ts";
import { ruleMeta } from "./rules.ts";

export interface GraphError {
  message: string;
  where?: string;
}

export interface NormalAsset {
  /** The producer's stable id (unique per tenant and type); relations and findings refer to it. */
  key: string;
  type: string;
  name: string | null;
  attributes: Record<string, unknown>;
}

export interface NormalRelation {
  type: string;
  from: string;
  to: string;
  properties: Record<string, unknown>;
}

export interface NormalFinding {
  fingerprint: string;
  rule: string;
  severity: Severity;
  title: string;
  asset: string | null;
  where: string | null;
  details: Record<string, unknown>;
}

export interface NormalGraph {
  assets: NormalAsset[];
  relations: NormalRelation[];
  findings: NormalFinding[];
  errors: GraphError[];
}

export const LIMITS = {
  idChars: 2000,
  typeChars: 100,
  ruleChars: 300,
  fingerprintChars: 300,
  titleChars: 1000,
  whereChars: 2000,
  /** Serialized attributes/properties/details beyond this are replaced by a note saying so. */
  jsonBytes: 64 * 1024,
  maxErrors: 1000,
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown, max: number): v is string => typeof v === "string" && v.length > 0 && v.length <= max;

const MAX_DEPTH = 32;

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text PostgreSQL accepts: no NUL characters, no lone surrogates. */
export function cleanText(s: string): string {
  // Almost every string is already clean: one scan decides.
  if (!s.includes("\u0000") && !SURROGATE.test(s)) return s;
  return s.split("\u0000").join("").replace(LONE_SURROGATE, "\uFFFD");
}

/** A JSON-safe copy: strings cleaned (keys too), nesting cut at 32 levels, non-JSON values dropped. */
function clean(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return cleanText(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean" || value === null) return value;
  if (depth >= MAX_DEPTH) return "[nested too deeply]";
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== "function") out[cleanText(k)] = clean(v, depth + 1);
    return out;
  }
  return null;
}

function capped(raw: Record<string, unknown>): Record<string, unknown> {
  const value = clean(raw) as Record<string, unknown>;
  const text = JSON.stringify(value);
  if (text.length <= LIMITS.jsonBytes) return value;
  return { truncated: true, original_bytes: text.length, note: `more than ${LIMITS.jsonBytes} bytes; the full value is in the evidence` };
}

function clip(raw: string, max: number): string {
  const text = cleanText(raw);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** sha256 of the parts (NUL-separated), 32 hex characters: how relation keys and derived fingerprints are made. */
export function stableKey(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}

export function relationKey(type: string, fromType: string, from: string, toType: string, to: string): string {
  return stableKey("relation", type, fromType, from, toType, to);
}

export function isSeverity(v: unknown): v is Severity {
  return typeof v === "string" && (severities as readonly string[]).includes(v);
}

export function normalizeGraph(graph: { assets?: unknown; relations?: unknown; findings?: unknown } | null | undefined): NormalGraph {
  const errors: GraphError[] = [];
  const err = (message: string, where: string) => {
    if (errors.length < LIMITS.maxErrors) errors.push({ message, where });
    else if (errors.length === LIMITS.maxErrors) errors.push({ message: "further problems were not listed" });
  };
  const list = (v: unknown, name: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    err(`${name} must be a list`, `/${name}`);
    return [];
  };

  const byId = new Map<string, NormalAsset>();
  for (const [i, a] of list(graph?.assets, "assets").entries()) {
    if (!isRecord(a) || !nonEmpty(a.id, LIMITS.idChars) || !nonEmpty(a.type, LIMITS.typeChars)) {
      err("asset without a string id and type was dropped", `/assets/${i}`);
      continue;
    }
    const key = cleanText(a.id);
    if (byId.has(key)) {
      err(`duplicate asset id ${clip(a.id, 200)} was dropped`, `/assets/${i}`);
      continue;
    }
    const { id: _id, type, name, properties, ...rest } = a;
    const attributes = isRecord(properties) ? { ...rest, ...properties } : rest;
    byId.set(key, { key, type: cleanText(type), name: typeof name === "string" ? clip(name, LIMITS.titleChars) : null, attributes: capped(attributes) });
  }

  const relations: NormalRelation[] = [];
  const seenRelations = new Set<string>();
  for (const [i, r] of list(graph?.relations, "relations").entries()) {
    if (!isRecord(r) || !nonEmpty(r.type, LIMITS.typeChars) || typeof r.from !== "string" || typeof r.to !== "string") {
      err("relation without a string type, from and to was dropped", `/relations/${i}`);
      continue;
    }
    const from = byId.get(cleanText(r.from));
    const to = byId.get(cleanText(r.to));
    if (!from || !to) {
      err(`relation ${clip(r.type, 100)} refers to an unknown asset and was dropped`, `/relations/${i}`);
      continue;
    }
    const dedupe = `${r.type}\u0000${from.key}\u0000${to.key}`;
    if (seenRelations.has(dedupe)) continue;
    seenRelations.add(dedupe);
    relations.push({ type: cleanText(r.type), from: from.key, to: to.key, properties: capped(isRecord(r.properties) ? r.properties : {}) });
  }

  const findings: NormalFinding[] = [];
  const seenFingerprints = new Set<string>();
  for (const [i, f] of list(graph?.findings, "findings").entries()) {
    const where = `/findings/${i}`;
    if (!isRecord(f) || !nonEmpty(f.rule, LIMITS.ruleChars)) {
      err("finding without a rule was dropped", where);
      continue;
    }
    const meta = ruleMeta(f.rule);
    let asset: string | null = null;
    if (f.asset !== undefined && f.asset !== null) {
      const known = typeof f.asset === "string" ? byId.get(cleanText(f.asset)) : undefined;
      if (known) asset = known.key;
      else err(`finding ${clip(f.rule, 100)} names an asset that is not in the graph; kept without it`, `${where}/asset`);
    }
    const location = typeof f.where === "string" && f.where ? clip(f.where, LIMITS.whereChars) : null;
    let fingerprint: string;
    if (nonEmpty(f.fingerprint, LIMITS.fingerprintChars)) fingerprint = cleanText(f.fingerprint);
    else {
      if (f.fingerprint !== undefined) err("fingerprint must be a string of at most 300 characters; derived from rule, asset and where instead", `${where}/fingerprint`);
      fingerprint = stableKey("derived", f.rule, asset ?? "", location ?? "", typeof f.title === "string" ? f.title : "");
    }
    if (seenFingerprints.has(fingerprint)) {
      err(`duplicate fingerprint ${clip(fingerprint, 100)} was dropped`, where);
      continue;
    }
    seenFingerprints.add(fingerprint);
    let severity: Severity;
    if (isSeverity(f.severity)) severity = f.severity;
    else {
      severity = meta?.severity ?? "medium";
      err(`severity must be one of ${severities.join(", ")}; ${severity} used`, `${where}/severity`);
    }
    const title = typeof f.title === "string" && f.title.trim() ? clip(f.title.trim(), LIMITS.titleChars) : (meta?.title ?? f.rule);
    findings.push({ fingerprint, rule: cleanText(f.rule), severity, title, asset, where: location, details: capped(isRecord(f.details) ? f.details : {}) });
  }
  return { assets: [...byId.values()], relations, findings, errors };
}
