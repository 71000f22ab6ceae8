// The connector contract: a connector receives its scope (JSON) and resolved credentials (env for its process only),
// and returns results, a normalized graph and raw artifacts within its time budget.
import type { SourceKind } from "../../db/schema/control.ts";
import type { PathPolicy } from "./path-policy.ts";

export interface ConnectorInput {
  scope: Record<string, unknown>;
  /** Resolved by the credential broker for this job only; never logged or stored. */
  credentials: Record<string, string>;
  signal: AbortSignal;
  /** Local paths this connector may read (set by the worker from CAIRN_SCAN_ROOTS and Cairn's own directories). */
  paths?: PathPolicy;
  log(level: "info" | "warn" | "error", message: string): void;
}

export interface RawArtifact {
  kind: string;
  contentType: string;
  body: Buffer;
}

export interface ConnectorOutput {
  /** Items collected (shown in the collect stage cell). */
  items: number;
  /** Category results, e.g. {servers: 4, packages: 3}. */
  summary: Record<string, unknown>;
  /** A normalized graph (assets, relations, findings) — consumed by the normalize/evaluate stages. */
  graph: { assets: unknown[]; relations: unknown[]; findings: unknown[] };
  artifacts: RawArtifact[];
  /** Problems that did not stop collection (where: a file path or JSON pointer). */
  warnings: { message: string; where?: string }[];
}

/** Where a push kind's data arrives: such a source is never run by hand or by a schedule. */
export interface PushIntake {
  /** The route that receives it, e.g. `/v1/results/push`. */
  path: string;
  /** What arrives there, in a few words ("results", "endpoint inventory"). */
  receives: string;
}

export interface Connector {
  kind: SourceKind;
  /** Validates a scope for this kind; returns a message naming the field, or null. */
  validateScope(scope: unknown): string | null;
  collect(input: ConnectorInput): Promise<ConnectorOutput>;
  /** Set for kinds whose data is pushed to Cairn: runs and schedules of their sources are refused up front. */
  push?: PushIntake;
}
