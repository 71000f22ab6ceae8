// The two push kinds as connectors, so their sources are `active` (not `unsupported`) and their scope is checked.
// Their data arrives by push (POST /v1/results/push, POST /v1/fleet/sync), never by a run of the source: `push` makes
// createRun and createSchedule refuse runs and schedules up front (a 422 that names the push route); a run that was
// queued anyway (e.g. by a schedule made before that check) fails at once and says where the data comes from.
import type { Connector } from "../connectors/contract.ts";
import { documentFormats } from "./graph.ts";

function nothingToCollect(route: string): Promise<never> {
  return Promise.reject(Object.assign(new Error(`This source receives its data by push (${route}); a run of its own has nothing to collect`), { permanent: true }));
}

/** ingest.result_push scope: {} or {"formats": ["sarif", "cyclonedx", "spdx"]} (the formats this source accepts). */
export function validateResultPushScope(scope: unknown): string | null {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return "scope: must be an object such as {} or {\"formats\": [\"sarif\"]}";
  const s = scope as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => k !== "formats");
  if (extra.length) return `scope.${extra[0]}: unknown field (ingest.result_push takes only formats)`;
  if ("formats" in s) {
    if (!Array.isArray(s.formats) || s.formats.length === 0) return `formats: must be a non-empty list of ${documentFormats.join(", ")}`;
    for (const [i, f] of s.formats.entries()) if (!(documentFormats as readonly unknown[]).includes(f)) return `formats.${i}: must be one of ${documentFormats.join(", ")}`;
  }
  return null;
}

export function validateFleetSyncScope(scope: unknown): string | null {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return "scope: must be an object ({} for fleet sync sources)";
  const extra = Object.keys(scope);
  if (extra.length) return `scope.${extra[0]}: unknown field (ingest.fleet_sync takes no scope fields)`;
  return null;
}

export const resultPushConnector: Connector = {
  kind: "ingest.result_push",
  push: { path: "/v1/results/push", receives: "results" },
  validateScope: validateResultPushScope,
  collect: () => nothingToCollect("POST /v1/results/push?source_id=…"),
};

export const fleetSyncConnector: Connector = {
  kind: "ingest.fleet_sync",
  push: { path: "/v1/fleet/sync", receives: "endpoint inventory" },
  validateScope: validateFleetSyncScope,
  collect: () => nothingToCollect("POST /v1/fleet/sync?source_id=…"),
};
