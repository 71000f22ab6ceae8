// The control plane as the browser sees it: shapes of sources, runs, jobs, schedules and credential refs (types only
// from server/), the words and tones their states are shown with, and the source kinds with their scope examples.
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import type { JobStatus, OverlapPolicy, RunStatus, RunTrigger, SourceKind, StageName } from "../../db/schema/control.ts";
import type { StatusTone } from "../components/status-badge";

type Outputs = inferRouterOutputs<AppRouter>;
type Inputs = inferRouterInputs<AppRouter>;

export type Source = Outputs["sources"]["list"]["items"][number];
export type SourceTest = Outputs["sources"]["test"];
export type SourceEvidence = Outputs["sources"]["evidence"]["items"][number];
export type Run = Outputs["runs"]["list"]["items"][number];
export type RunDetail = Outputs["runs"]["get"];
export type StageCell = Run["stages"][StageName];
export type StillFailing = Outputs["runs"]["stillFailing"]["items"][number];
export type BulkResult = Outputs["runs"]["bulk"];
export type RunFilter = NonNullable<Inputs["runs"]["bulk"]["filter"]>;
export type Job = Outputs["jobs"]["list"]["items"][number];
export type LogLine = Outputs["jobs"]["logs"]["items"][number];
export type Schedule = Outputs["schedules"]["list"]["items"][number];
export type Tick = Outputs["schedules"]["ticks"]["items"][number];
export type Upcoming = Outputs["schedules"]["upcoming"];
export type CredentialRef = Outputs["credentials"]["list"]["items"][number];
export type { JobStatus, OverlapPolicy, RunStatus, RunTrigger, SourceKind, StageName };

export const STAGES = ["collect", "normalize", "evaluate", "evidence"] as const satisfies readonly StageName[];
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"] as const satisfies readonly RunStatus[];
export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"] as const satisfies readonly JobStatus[];
export const RUN_TRIGGERS = ["schedule", "manual", "api", "push", "retry", "deploy_gate"] as const satisfies readonly RunTrigger[];
export const OVERLAP_POLICIES = ["skip", "allow", "replace"] as const satisfies readonly OverlapPolicy[];
export const CREDENTIAL_PROVIDERS = ["env", "file", "aws_secrets_manager", "vault"] as const;

/** Runs and jobs that can still change. */
export const isActive = (status: string) => status === "queued" || status === "running";
/** Runs that a retry may follow. */
export const isRetryable = (status: string) => status === "failed" || status === "timed_out" || status === "cancelled";

export const stageLabel = (s: StageName) => s.charAt(0).toUpperCase() + s.slice(1);
export const statusLabel = (status: string) => (status === "timed_out" ? "Timed out" : status.charAt(0).toUpperCase() + status.slice(1).replace(/_/g, " "));

/** Run and job states share their words and tones. */
export const WORK_TONE: Record<string, StatusTone> = {
  queued: "neutral",
  running: "info",
  succeeded: "ok",
  failed: "danger",
  cancelled: "warn",
  timed_out: "danger",
};

export const SOURCE_STATUS: Record<Source["status"], { tone: StatusTone; label: string; title: string }> = {
  active: { tone: "ok", label: "Active", title: "Runs on demand and on its schedules" },
  disabled: { tone: "neutral", label: "Disabled", title: "Refuses to run until enabled; its schedules skip" },
  unsupported: { tone: "warn", label: "Unsupported", title: "No connector for this kind in this build: the source cannot run" },
};

export const HEALTH: Record<string, { tone: StatusTone; label: string }> = {
  unknown: { tone: "neutral", label: "Not tested" },
  healthy: { tone: "ok", label: "Healthy" },
  missing: { tone: "warn", label: "Missing" },
  invalid: { tone: "danger", label: "Invalid" },
  unsupported: { tone: "warn", label: "Unsupported" },
};

export const TRIGGER_LABEL: Record<RunTrigger, string> = {
  schedule: "Schedule",
  manual: "Manual",
  api: "API",
  push: "Push",
  retry: "Retry",
  deploy_gate: "Deploy gate",
};

export const OVERLAP_SUMMARY: Record<OverlapPolicy, string> = {
  skip: "Skip: refuse a new run while one is queued or running",
  allow: "Allow: run both at once",
  replace: "Replace: cancel the active run and start the new one",
};

export const PROVIDER_LABEL: Record<string, string> = {
  env: "Environment variables",
  file: "Mounted files",
  aws_secrets_manager: "AWS Secrets Manager",
  vault: "HashiCorp Vault",
};

/** Providers that resolve in this build; the others are reserved and fail clearly. */
export const AVAILABLE_PROVIDERS = new Set(["env", "file"]);

export interface KindInfo {
  kind: SourceKind;
  label: string;
  summary: string;
  /** A scope to start from. Kinds whose scope the API contract fixes get a real one; the rest start empty. */
  example: Record<string, unknown>;
}

export const SOURCE_KINDS: KindInfo[] = [
  { kind: "scan.repo", label: "Repository", summary: "A local checkout or git URL: dependency manifests and lockfiles, MCP configs, secret-like strings.", example: { paths: ["/path/to/checkout"] } },
  { kind: "scan.image", label: "Container image", summary: "A container image and its layers.", example: {} },
  { kind: "scan.iac", label: "Infrastructure as code", summary: "Terraform, Kubernetes and similar definitions.", example: {} },
  { kind: "scan.cloud", label: "Cloud account scan", summary: "A cloud account's resources and their settings.", example: {} },
  { kind: "scan.mcp_config", label: "MCP client configs", summary: "Claude Desktop, Cursor, VS Code and Windsurf MCP configs: servers, commands, packages, env keys, remote URLs.", example: { paths: ["/path/to/dir"] } },
  { kind: "connector.cloud_read_only", label: "Cloud read-only connector", summary: "Continuous read-only access to a cloud account.", example: {} },
  { kind: "connector.registry", label: "Registry connector", summary: "A package or container registry.", example: {} },
  { kind: "connector.warehouse", label: "Warehouse connector", summary: "A data warehouse.", example: {} },
  { kind: "ingest.fleet_sync", label: "Fleet sync", summary: "Endpoint inventory pushed by fleet agents.", example: {} },
  { kind: "ingest.trace_push", label: "Trace push", summary: "Agent and tool-call traces pushed to Cairn.", example: {} },
  { kind: "ingest.result_push", label: "Result push", summary: "SARIF, CycloneDX and SPDX documents pushed to Cairn.", example: {} },
  { kind: "ingest.artifact_import", label: "Artifact import", summary: "Artifacts imported from elsewhere.", example: {} },
  { kind: "runtime.proxy", label: "Runtime proxy", summary: "Traffic seen by a runtime proxy.", example: {} },
  { kind: "runtime.gateway", label: "Runtime gateway", summary: "Traffic seen by a runtime gateway.", example: {} },
  { kind: "custom", label: "Custom connector", summary: "An executable a platform owner allow-listed, run with the scope's input; it reports results, a graph and artifacts.", example: { connector: "connector-name", input: {} } },
];

export function kindInfo(kind: string): KindInfo | undefined {
  return SOURCE_KINDS.find((k) => k.kind === kind);
}

const PUSH_RECEIVES: Record<string, string> = { "ingest.result_push": "results", "ingest.fleet_sync": "endpoint inventory" };

/** Why a push source has no "Run now" and no schedules (the API refuses both with the same words); null for sources that run. */
export function pushOnlyReason(source: { kind: string; push_route: string | null }): string | null {
  if (!source.push_route) return null;
  return `This source receives ${PUSH_RECEIVES[source.kind] ?? "its data"} by push: ${source.push_route} with an Idempotency-Key header. It is not run by hand or on a schedule.`;
}

export const shortId = (id: string) => id.slice(0, 8);
export const who = (actor: string) => actor.replace(/^(user|api_key):/, "");

/** What a source reads, in one line: its paths or URL, or its scope's keys. */
export function scopeSummary(scope: Record<string, unknown>): string {
  const paths = scope.paths;
  if (Array.isArray(paths) && paths.length) {
    const first = String(paths[0]);
    return paths.length > 1 ? `${first} +${paths.length - 1} more` : first;
  }
  if (typeof scope.url === "string") return typeof scope.ref === "string" ? `${scope.url} @ ${scope.ref}` : scope.url;
  const keys = Object.keys(scope);
  return keys.length ? JSON.stringify(scope) : "—";
}

/** Seconds between two instants, or null when either is missing. */
export function secondsBetween(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  const ms = new Date(end).getTime() - new Date(start).getTime();
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : null;
}

/** A short duration: "340 ms", "4.2 s", "3 min 5 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** Evidence a job produced: the counted figure when the list has it, else what the job reported in its result. */
export function jobEvidence(job: Job): number | null {
  if (job.evidence_count !== null) return job.evidence_count;
  const n = job.result_summary?.evidence;
  return typeof n === "number" ? n : null;
}

/** A search string from filters (empty values left out), with extra parameters such as a cursor. */
export function searchWith(filters: Record<string, string>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A datetime-local value ("2025-01-31T09:30") read as UTC; full ISO times pass through. */
export function utcInstant(value: string): string {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(value)) return `${value}:00Z`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/.test(value)) return `${value}Z`;
  return value;
}

/** Parses a JSON object typed into a form; the message says what is wrong. */
export function parseJsonObject(text: string, field: string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (!trimmed) return { ok: true, value: {} };
  try {
    const value: unknown = JSON.parse(trimmed);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, message: `${field}: must be a JSON object, such as {"paths": ["/path/to/dir"]}` };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (err) {
    return { ok: false, message: `${field}: not valid JSON (${err instanceof Error ? err.message : "parse error"})` };
  }
}

/** Labels typed one per line as key=value. */
export function parseLabels(text: string): { ok: true; value: Record<string, string> } | { ok: false; message: string } {
  const labels: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { ok: false, message: `labels: line ${i + 1} must look like key=value` };
    labels[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { ok: true, value: labels };
}

export const labelsText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");

/** Common IANA zones offered beside the time zone field (any IANA name is accepted). */
export const COMMON_TIME_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Madrid",
  "Europe/Amsterdam",
  "Europe/Stockholm",
  "Europe/Warsaw",
  "Europe/Kyiv",
  "Europe/Istanbul",
  "Africa/Johannesburg",
  "Africa/Lagos",
  "Asia/Dubai",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Tokyo",
  "Asia/Seoul",
  "Australia/Sydney",
  "Pacific/Auckland",
  "America/Sao_Paulo",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Toronto",
  "America/Mexico_City",
];

/** Cron expressions to start from. */
export const CRON_PRESETS: { cron: string; label: string }[] = [
  { cron: "*/15 * * * *", label: "every 15 minutes" },
  { cron: "0 * * * *", label: "every hour" },
  { cron: "30 2 * * *", label: "every day at 02:30" },
  { cron: "0 9 * * 1-5", label: "weekdays at 09:00" },
  { cron: "0 3 * * 0", label: "Sundays at 03:00" },
];
