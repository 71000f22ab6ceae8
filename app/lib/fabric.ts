// The fabric as the browser shows it: the shapes of the fabric procedures, health and authority wording, where a risky
// state leads, certificate timing, and the enroll command a new join token goes into. Browser-safe (types only from server/).
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import type { StatusTone } from "../components/status-badge";

type Outputs = inferRouterOutputs<AppRouter>["fabric"];
type Inputs = inferRouterInputs<AppRouter>["fabric"];

export type FabricOverview = Outputs["overview"];
export type RiskyState = FabricOverview["risky_states"][number];
export type Coverage = FabricOverview["role_coverage"][number];
export type Cluster = Outputs["clusters"]["list"]["items"][number];
export type ClusterTrust = Outputs["clusters"]["trust"];
export type NodeGroup = Outputs["clusters"]["groups"]["items"][number];
export type JoinToken = Outputs["joinTokens"]["list"]["items"][number];
export type NewJoinToken = Outputs["joinTokens"]["create"];
export type JoinTokenInput = Inputs["joinTokens"]["create"];
export type JoinRequest = Outputs["joinRequests"]["list"]["items"][number];
export type FabricNode = Outputs["nodes"]["list"]["items"][number];
export type NodeDetail = Outputs["nodes"]["get"];
export type NodeAuditItem = Outputs["nodes"]["audit"]["items"][number];
export type RoleAssignment = Outputs["roles"]["list"]["items"][number];
export type RoleCatalogEntry = Outputs["roles"]["catalog"]["items"][number];
export type Topology = Outputs["topology"];
export type TopologyNode = Topology["nodes"][number];
export type TenantFabricStatus = Outputs["tenantStatus"];
export type RevokedActivity = inferRouterOutputs<AppRouter>["fabricUi"]["revokedActivity"]["items"][number];

export type NodeHealth = FabricNode["health"];
export type AuthorityState = Cluster["authority_state"];

export const NODE_HEALTH_ORDER = ["healthy", "degraded", "stale", "offline", "never_seen", "revoked"] as const satisfies readonly NodeHealth[];

export const NODE_HEALTH: Record<NodeHealth, { tone: StatusTone; label: string; title: string }> = {
  healthy: { tone: "ok", label: "Healthy", title: "Heartbeating on time and reporting healthy" },
  degraded: { tone: "warn", label: "Degraded", title: "Heartbeating, but the agent reports degraded (for example after losing the control plane)" },
  stale: { tone: "warn", label: "Stale", title: "Heartbeats are late" },
  offline: { tone: "danger", label: "Offline", title: "No heartbeat for a long time" },
  never_seen: { tone: "neutral", label: "Never seen", title: "Approved, but no heartbeat yet: start cairn agent run" },
  revoked: { tone: "danger", label: "Revoked", title: "Its identity was revoked: every request is refused" },
  worker: { tone: "info", label: "Worker", title: "A control-plane worker process, not an enrolled node" },
};

export const AUTHORITY: Record<AuthorityState, { tone: StatusTone; label: string; title: string }> = {
  healthy: { tone: "ok", label: "Healthy", title: "Approvals, certificates, role and policy changes are allowed" },
  degraded: { tone: "warn", label: "Degraded", title: "Refuses approvals, certificates, role and policy changes until recovered" },
  partitioned: { tone: "danger", label: "Partitioned", title: "Refuses approvals, certificates, role and policy changes until recovered" },
};

export const JOIN_REQUEST_STATUS: Record<JoinRequest["status"], { tone: StatusTone; label: string }> = {
  pending: { tone: "warn", label: "Pending" },
  approved: { tone: "ok", label: "Approved" },
  rejected: { tone: "danger", label: "Rejected" },
};

export const TOKEN_STATE: Record<JoinToken["state"], { tone: StatusTone; label: string }> = {
  active: { tone: "ok", label: "Active" },
  expired: { tone: "neutral", label: "Expired" },
  exhausted: { tone: "neutral", label: "Used up" },
  revoked: { tone: "danger", label: "Revoked" },
};

export const SEVERITY: Record<RiskyState["severity"], { tone: StatusTone; label: string }> = {
  critical: { tone: "danger", label: "Critical" },
  warning: { tone: "warn", label: "Warning" },
  info: { tone: "info", label: "Note" },
};

const IDENTITY_TONE: Record<string, StatusTone> = { active: "ok", rotated: "neutral", revoked: "danger" };
export const identityTone = (status: string): StatusTone => IDENTITY_TONE[status] ?? "neutral";

/** The health of a node or workload as a tone, for anything the maps above do not name. */
export function workloadTone(w: { reported: string; in_sync: boolean; paused: boolean }): StatusTone {
  if (w.reported === "failed") return "danger";
  if (w.paused) return "neutral";
  if (!w.in_sync) return "warn";
  return "ok";
}

export const healthLabel = (h: string) => NODE_HEALTH[h as NodeHealth]?.label ?? h;

/** The page a risky state is about: a node, a join token's cluster, or the cluster itself. */
export function riskHref(r: Pick<RiskyState, "kind" | "cluster_id" | "node_id" | "token_id">): string {
  if (r.node_id && r.kind !== "role_serves_every_organization") return `/fabric/nodes/${r.node_id}`;
  if (r.kind === "role_serves_every_organization") return r.cluster_id ? `/fabric/roles?cluster=${r.cluster_id}` : "/fabric/roles";
  if (r.token_id && r.cluster_id) return `/fabric/join-tokens?cluster=${r.cluster_id}`;
  if (r.kind === "ca_expiring" && r.cluster_id) return `/fabric/trust?cluster=${r.cluster_id}`;
  if (r.cluster_id) return `/fabric/clusters/${r.cluster_id}`;
  return "/fabric";
}

const SEVERITY_RANK: Record<RiskyState["severity"], number> = { critical: 0, warning: 1, info: 2 };
export const bySeverity = <T extends { severity: RiskyState["severity"] }>(items: T[]): T[] => [...items].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);

/** Where a certificate stands, given `now` (ms): expired, due for rotation (the last third of its life), or fine. */
export function certificateTiming(cert: { not_before: string; not_after: string }, now: number): { state: "expired" | "rotation_due" | "valid"; rotationFrom: string; secondsLeft: number } {
  const start = Date.parse(cert.not_before);
  const end = Date.parse(cert.not_after);
  const rotationFrom = new Date(end - (end - start) / 3).toISOString();
  const secondsLeft = Math.round((end - now) / 1000);
  if (end <= now) return { state: "expired", rotationFrom, secondsLeft };
  if (Date.parse(rotationFrom) <= now) return { state: "rotation_due", rotationFrom, secondsLeft };
  return { state: "valid", rotationFrom, secondsLeft };
}

/** A long hex fingerprint shortened for a table, with the whole in `title`. */
export const shortHex = (hex: string, keep = 16) => (hex.length > keep ? `${hex.slice(0, keep)}…` : hex);

/** The command that enrolls a host with a new token. Quoted for POSIX shells. */
export function enrollCommand(origin: string, token: string, opts: { cluster?: string; stateDir?: string } = {}): string {
  const parts = ["cairn agent enroll", `--url ${origin}`, `--token ${token}`];
  if (opts.cluster) parts.push(`--cluster ${opts.cluster}`);
  if (opts.stateDir) parts.push(`--state-dir ${opts.stateDir}`);
  return parts.join(" ");
}

/** TTL choices for a join token (seconds); the server accepts 60 s to 7 days. */
export const TOKEN_TTLS: { seconds: number; label: string }[] = [
  { seconds: 600, label: "10 minutes" },
  { seconds: 3_600, label: "1 hour" },
  { seconds: 14_400, label: "4 hours" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 604_800, label: "7 days" },
];

/** A claimed fact or capability value as one line of text. */
export function factText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(factText).join(", ");
  return JSON.stringify(value);
}

/** Capabilities a role needs that the node does not report (assigning is still refused by the server in that case). */
export function missingCapability(role: RoleCatalogEntry | undefined, capabilities: { name: string; value: unknown }[]): boolean {
  if (!role) return false;
  const cap = capabilities.find((c) => c.name === role.capability);
  return !cap || cap.value === false || cap.value === null;
}

/** Counts of nodes per health, in display order, without the zeros. */
export function healthBreakdown(byHealth: Record<string, number>): { health: NodeHealth; count: number }[] {
  return NODE_HEALTH_ORDER.filter((h) => (byHealth[h] ?? 0) > 0).map((h) => ({ health: h, count: byHealth[h] ?? 0 }));
}

export const who = (actor: string | null) => (actor ?? "").replace(/^(user|api_key|node):/, "");
