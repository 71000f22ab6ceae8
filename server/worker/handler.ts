// What a job handler is given and may return. Handlers are registered per job type (server/worker/handlers.ts).
import type { Tx } from "../../db/tenant.ts";
import type { ClaimedJob } from "../queue/queue.ts";
import type { Runtime } from "../runtime.ts";

export interface JobContext {
  rt: Runtime;
  /** The job as its claim carries it (what running it needs; server/queue/queue.ts). */
  job: ClaimedJob;
  /** Fires when the job is cancelled, its time budget runs out, its lease is lost, or the worker shuts down. */
  signal: AbortSignal;
  /** Appends a line to the job's stored log (bounded; secret values registered with `redact` are replaced). */
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
  /** Values that must never reach the log (resolved credentials): replaced by [REDACTED] in every later line. */
  redact(...values: string[]): void;
  /** Runs fn in a transaction scoped to the job's tenant. */
  inTenant<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

export interface JobOutcome {
  result?: Record<string, unknown>;
  /**
   * Runs in the same transaction that marks the job succeeded, and only if this worker still holds the lease:
   * side effects written here happen exactly once even when a worker dies mid-job and the job runs again.
   */
  commit?(tx: Tx): Promise<void>;
}

export type JobHandler = (ctx: JobContext) => Promise<JobOutcome | void>;

export interface HandlerDefinition {
  jobType: string;
  handler: JobHandler;
  /**
   * Called (in the job's tenant transaction) once the job reaches a final failed/cancelled/timed_out state. `cause` is
   * the error the handler threw when that is what ended the job (not a cancellation, the job's own time budget or the
   * reaper), so the handler can record what it carries (a connector's budget status, where its output went wrong).
   */
  onFinalFailure?(tx: Tx, job: ClaimedJob, status: "failed" | "cancelled" | "timed_out", error: string, cause?: unknown): Promise<void>;
}

/**
 * Properties a handler's error may carry that the worker honours: `permanent` (no retry) and `finalStatus` (end the
 * job as `timed_out` rather than `failed`, e.g. a connector that ran out of its own time budget).
 */
export interface HandlerErrorFlags {
  permanent?: boolean;
  finalStatus?: "timed_out";
}

/** Throw this (or let a network/database error through) for failures worth retrying: 1 s, 2 s, 4 s, then give up. */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransientError";
  }
}

const TRANSIENT_CODES = new Set(["CONNECT_TIMEOUT", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "57P01", "57P02", "57P03", "08000", "08003", "08006", "40001", "40P01"]);

export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  const code = (err as { code?: string } | null)?.code;
  return typeof code === "string" && TRANSIENT_CODES.has(code);
}

export const RETRY_DELAYS_SECONDS = [1, 2, 4] as const;
