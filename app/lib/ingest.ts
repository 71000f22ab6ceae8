// Push ingest as the browser sees it: receipt and endpoint shapes (types only from server/), the words and tones of
// receipt states, and short summaries of what a document held and what its push did.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import type { StatusTone } from "../components/status-badge";

type Outputs = inferRouterOutputs<AppRouter>;
export type Receipt = Outputs["receipts"]["get"];
export type ReceiptFinding = Outputs["receipts"]["findings"]["items"][number];
export type IngestHealth = Outputs["receipts"]["health"];
export type Endpoint = Outputs["fleet"]["endpoints"]["items"][number];
export type EndpointDetail = Outputs["fleet"]["endpoint"];

export const RECEIPT_STATUSES = ["received", "parsed", "normalized", "evaluated", "done", "failed"] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export const RECEIPT_TONE: Record<ReceiptStatus, StatusTone> = {
  received: "neutral",
  parsed: "info",
  normalized: "info",
  evaluated: "info",
  done: "ok",
  failed: "danger",
};

export const HEALTH_TONE: Record<IngestHealth["health"], { tone: StatusTone; label: string }> = {
  ok: { tone: "ok", label: "Healthy" },
  failing: { tone: "danger", label: "Failing" },
  processing: { tone: "info", label: "Processing" },
  never: { tone: "neutral", label: "Nothing pushed yet" },
};

export const FORMAT_LABEL: Record<string, string> = { sarif: "SARIF", cyclonedx: "CycloneDX", spdx: "SPDX", fleet: "Fleet sync" };

export const isSettled = (status: string) => status === "done" || status === "failed";

/** What the document held, in its own terms: "1 run · 114 results", "131 components · 132 dependencies", … */
export function documentSummary(r: Pick<Receipt, "format" | "counts">): string {
  const c = r.counts;
  const parts: string[] = [];
  const add = (n: number | undefined, one: string, many: string) => {
    if (n !== undefined) parts.push(`${n.toLocaleString("en-US")} ${n === 1 ? one : many}`);
  };
  if (r.format === "sarif") {
    add(c.runs, "run", "runs");
    add(c.results, "result", "results");
  } else if (r.format === "cyclonedx") {
    add(c.components, "component", "components");
    if (c.services) add(c.services, "service", "services");
    add(c.vulnerabilities, "vulnerability", "vulnerabilities");
  } else if (r.format === "spdx") {
    add(c.packages, "package", "packages");
    if (c.files) add(c.files, "file", "files");
    add(c.relationships, "relationship", "relationships");
  } else if (r.format === "fleet") {
    add(c.configs, "config", "configs");
    add(c.servers, "MCP server", "MCP servers");
  }
  return parts.join(" · ") || "—";
}

/** What the push did to findings: "+12 new · 3 seen again · −4 resolved". */
export function findingsSummary(r: Pick<Receipt, "counts" | "status">): string {
  const c = r.counts;
  if (r.status !== "done") return "—";
  const parts = [`${(c.findings ?? 0).toLocaleString("en-US")} present`];
  if (c.findings_created) parts.push(`+${c.findings_created.toLocaleString("en-US")} new`);
  if (c.findings_reopened) parts.push(`${c.findings_reopened.toLocaleString("en-US")} reopened`);
  if (c.findings_resolved) parts.push(`−${c.findings_resolved.toLocaleString("en-US")} resolved`);
  return parts.join(" · ");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
