// The normalized graph a pushed document becomes (the shape every producer hands to the findings core), plus the
// small helpers the format mappers share: stable fingerprints, severities, bounded text.
import { createHash } from "node:crypto";

export type Severity = "critical" | "high" | "medium" | "low" | "info";
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

export interface GraphAsset {
  /** Stable key, unique per tenant and type: a purl, "repo:<url>", "file:<base>/<path>", "host:<name>", … */
  id: string;
  type: string;
  name?: string;
  properties: Record<string, unknown>;
}

export interface GraphRelation {
  type: string;
  from: string;
  to: string;
  properties?: Record<string, unknown>;
}

export interface GraphFinding {
  fingerprint: string;
  rule: string;
  severity: Severity;
  title: string;
  asset?: string;
  /** file:line or file#/json/pointer */
  where?: string;
  details: Record<string, unknown>;
}

export interface IngestGraph {
  assets: GraphAsset[];
  relations: GraphRelation[];
  findings: GraphFinding[];
}

/** A problem that did not stop the document from being read: an entry skipped, a reference that led nowhere. */
export interface DocumentWarning {
  message: string;
  where: string;
}

export const documentFormats = ["sarif", "cyclonedx", "spdx"] as const;
export type DocumentFormat = (typeof documentFormats)[number];

export interface ParsedDocument {
  format: DocumentFormat;
  /** "2.1.0", "1.5", "SPDX-2.3" */
  formatVersion: string;
  /** What the document holds, counted as the document states it (runs, results, components, packages, …). */
  counts: Record<string, number>;
  graph: IngestGraph;
  warnings: DocumentWarning[];
  /** The producing tool(s), when the document names them. */
  tools: string[];
}

/** 32 hex characters of SHA-256 over the parts (NUL-separated so parts cannot run together). */
export function fingerprintOf(...parts: (string | number | null | undefined)[]): string {
  return createHash("sha256")
    .update(parts.map((p) => (p === null || p === undefined ? "" : String(p))).join("\u0000"))
    .digest("hex")
    .slice(0, 32);
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

/** First line, trimmed and cut to `max` characters. */
export function oneLine(text: string, max = 300): string {
  const line = text.trim().split(/\r?\n/, 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** CVSS-style score → severity (CVSS v3 qualitative bands). */
export function severityFromScore(score: number): Severity | null {
  if (!Number.isFinite(score)) return null;
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score > 0) return "low";
  return "info";
}

/** Words tools use for severity (CRITICAL, High, moderate, informational, …) → ours. */
export function severityFromWord(word: unknown): Severity | null {
  if (typeof word !== "string") return null;
  switch (word.trim().toLowerCase()) {
    case "critical":
      return "critical";
    case "high":
    case "error":
      return "high";
    case "medium":
    case "moderate":
    case "warning":
      return "medium";
    case "low":
    case "note":
      return "low";
    case "info":
    case "informational":
    case "none":
      return "info";
    default:
      return null;
  }
}

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** Collects warnings up to a cap, counting the rest. */
export class WarningList {
  readonly items: DocumentWarning[] = [];
  dropped = 0;
  constructor(private readonly max = 100) {}
  add(message: string, where: string) {
    if (this.items.length < this.max) this.items.push({ message, where });
    else this.dropped++;
  }
  list(): DocumentWarning[] {
    return this.dropped ? [...this.items, { message: `… and ${this.dropped} more warnings`, where: "/" }] : this.items;
  }
}
