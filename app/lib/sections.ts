// The product's sections in navigation order: one list feeds the sidebar, the placeholder pages and the Overview's "What's next".

export type SectionId = "overview" | "sources" | "runs" | "jobs" | "schedules" | "credentials" | "evidence" | "findings" | "policies" | "receipts" | "fleet" | "fabric" | "nodes" | "connectors" | "audit" | "settings";

export interface Section {
  id: SectionId;
  label: string;
  path: string;
  /** What the page will hold once its capability is built. */
  description: string;
  /** What fills the empty page, and which capability brings it. */
  emptyTitle: string;
  emptyBody: string;
  /** The capability area that builds this page (none for pages that already exist). */
  arrivesWith: CapabilityId | null;
}

export type CapabilityId = "fabric";

export interface Capability {
  id: CapabilityId;
  title: string;
  summary: string;
}

/** Capability areas not built yet, in the order they are planned (none today: the Overview shows no roadmap). */
export const capabilities: Capability[] = [];

export const sections: Section[] = [
  {
    id: "overview",
    label: "Overview",
    path: "/",
    description: "Health of this installation and of the work it runs.",
    emptyTitle: "",
    emptyBody: "",
    arrivesWith: null,
  },
  {
    id: "sources",
    label: "Sources",
    path: "/sources",
    description:
      "Everything Cairn collects from: repositories, container images, infrastructure code, cloud accounts, MCP client configurations and the intake paths that push results in. Each source shows its status, credential mode, scope, last run and last result, with a run-now action; its detail page gathers its jobs, schedules, evidence, findings and audit trail.",
    emptyTitle: "No sources yet",
    emptyBody:
      "Register what Cairn collects from (MCP client configs, repositories, push intakes), then run it now or give it a schedule.",
    arrivesWith: null,
  },
  {
    id: "runs",
    label: "Runs",
    path: "/runs",
    description:
      "Every end-to-end execution of a source, whatever started it: a schedule, a person, the API, a push or a retry. Each run shows its collect, normalize, evaluate and evidence stages on one row; the run detail adds the stage panel, a live log and re-run.",
    emptyTitle: "No runs yet",
    emptyBody:
      "Each collection becomes a run you can follow stage by stage, watch live and re-run.",
    arrivesWith: null,
  },
  {
    id: "jobs",
    label: "Jobs",
    path: "/jobs",
    description:
      "The work queue behind the runs: queued, running, failed and retried jobs, how many attempts each took, the evidence each produced, and cancel for work that should stop.",
    emptyTitle: "The queue is empty",
    emptyBody:
      "Workers claim jobs from PostgreSQL, retry transient failures and survive restarts; you cancel jobs from here.",
    arrivesWith: null,
  },
  {
    id: "schedules",
    label: "Schedules",
    path: "/schedules",
    description:
      "When each source runs: its cron expression and timezone with a plain-language reading, whether it is enabled, the next and last run and the last outcome, with edit and enable/disable in place.",
    emptyTitle: "No schedules yet",
    emptyBody:
      "Give a source a cron expression and Cairn's scheduler enqueues its runs on time, exactly once across replicas.",
    arrivesWith: null,
  },
  {
    id: "credentials",
    label: "Credentials",
    path: "/credentials",
    description:
      "References to the secrets your sources need: where the broker finds each one (environment variables or a mounted directory) and whether the values are present. Values are never stored, logged or shown.",
    emptyTitle: "No credential refs yet",
    emptyBody: "Sources that need a token or a key use a credential ref; the broker resolves it at run time, for one job.",
    arrivesWith: null,
  },
  {
    id: "evidence",
    label: "Evidence",
    path: "/evidence",
    description:
      "The immutable record of what was collected: signed, content-addressed blobs with a verify action, and the provenance graph that traces every finding back through evidence, job and run to its source.",
    emptyTitle: "No evidence yet",
    emptyBody:
      "Every run stores what it collected, and every push the document it received: hashed, signed, never rewritten, and linked to the run that produced it.",
    arrivesWith: null,
  },
  {
    id: "findings",
    label: "Findings",
    path: "/findings",
    description:
      "What the evidence means under your policies: findings with rule, severity, asset and status (open, resolved or suppressed), first and last seen, and the evidence behind each one.",
    emptyTitle: "No findings yet",
    emptyBody:
      "Findings arrive with connectors and policies: the evaluate stage applies your policy bindings to collected evidence, and re-runs resolve findings instead of duplicating them.",
    arrivesWith: null,
  },
  {
    id: "policies",
    label: "Policies",
    path: "/policies",
    description:
      "What counts as a finding, and how much it matters: policies list rules (exact ids or patterns) with severity overrides, and bindings attach them to the whole tenant or to one source in audit, enforce or disabled mode. The rules catalogue says what each built-in rule checks.",
    emptyTitle: "No policies yet",
    emptyBody: "Without a binding every rule records its findings as its producer rates them; bind a policy to audit, enforce or switch rules off.",
    arrivesWith: null,
  },
  {
    id: "receipts",
    label: "Receipts",
    path: "/receipts",
    description:
      "Every pushed SARIF, CycloneDX or SPDX document and fleet sync, from received to done or failed: its format, counts, the findings it created, updated or resolved, what was wrong and where in the document, and the raw document as received (sha256, downloadable).",
    emptyTitle: "Nothing pushed yet",
    emptyBody: "Create an ingest.result_push source and push a document to POST /v1/results/push with an Idempotency-Key; its receipt appears here at once.",
    arrivesWith: null,
  },
  {
    id: "fleet",
    label: "Fleet",
    path: "/fleet",
    description:
      "Endpoints that sync their inventory (host, OS, agent version, the MCP client configs found on them), with when each was last seen, its MCP servers and what was found in them.",
    emptyTitle: "No endpoints yet",
    emptyBody: "Create an ingest.fleet_sync source and have endpoints POST their inventory to /v1/fleet/sync.",
    arrivesWith: null,
  },
  {
    id: "fabric",
    label: "Fabric",
    path: "/fabric",
    description:
      "Clusters as trust domains and the nodes enrolled in them: join tokens and join requests reviewed with a passkey, node certificates from each cluster's own CA, health from signed heartbeats, role assignments and workloads, and the topology. Organizations see only the safe status of the endpoints allowed to serve them.",
    emptyTitle: "No clusters yet",
    emptyBody: "Create a cluster, give a host a join token, and approve its join request: its heartbeats appear here.",
    arrivesWith: null,
  },
  {
    id: "nodes",
    label: "Nodes",
    path: "/nodes",
    description:
      "The control plane's own worker processes (each `cairn worker` and the worker inside `cairn all`) with heartbeat, version, host and the jobs they are running. Enrolled nodes, clusters and join requests live under Fabric.",
    emptyTitle: "No worker running",
    emptyBody: "Start `cairn worker` (or `cairn all`): each worker process registers here and heartbeats every 5 s.",
    arrivesWith: null,
  },
  {
    id: "connectors",
    label: "Connectors",
    path: "/platform/connectors",
    description:
      "Custom connectors: executables platform owners allow-list for sources of kind custom. Each is recorded with its absolute path and SHA-256, re-checked before every run, and runs with only an allowlisted environment and the job's credentials under time and output budgets.",
    emptyTitle: "No custom connectors yet",
    emptyBody: "A platform owner allow-lists an executable; tenants then create custom sources that name it.",
    arrivesWith: null,
  },
  {
    id: "audit",
    label: "Audit",
    path: "/audit",
    description:
      "A tamper-evident record of every action: who did what to which resource, when, from where and with what outcome, including denied attempts. Filter it, verify its hash chain and export it as JSON Lines.",
    emptyTitle: "Nothing recorded yet",
    emptyBody:
      "Every change, sign-in and denied attempt in this tenant is written to a per-tenant hash chain you can verify and export; nothing matches here yet.",
    arrivesWith: null,
  },
  {
    id: "settings",
    label: "Settings",
    path: "/settings",
    description:
      "Your tenant: its members and their roles, API keys with rotate and revoke, your passkeys, tenant details and the sign-in method.",
    emptyTitle: "",
    emptyBody: "",
    arrivesWith: null,
  },
];

export function sectionById(id: SectionId): Section {
  const found = sections.find((s) => s.id === id);
  if (!found) throw new Error(`Unknown section: ${id}`);
  return found;
}

export const pageTitle = (title: string) => `${title} · Cairn`;

export function capabilityById(id: CapabilityId): Capability {
  const found = capabilities.find((c) => c.id === id);
  if (!found) throw new Error(`Unknown capability: ${id}`);
  return found;
}

/** The pages a capability fills once it is built. */
export const sectionsFilledBy = (id: CapabilityId) => sections.filter((s) => s.arrivesWith === id);
