// The Overview's system panel: what this process is and what its database looks like, refreshed live by the route.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import { formatDuration, formatLatency, formatUtc } from "../lib/format";
import { useHydrated } from "../lib/use-hydrated";
import { StatusBadge } from "./status-badge";

export type SystemInfo = inferRouterOutputs<AppRouter>["system"]["info"];

const MODE_SUMMARY: Record<SystemInfo["mode"], string> = {
  all: "web and worker in one process",
  web: "UI, API and scheduler",
  worker: "drains the job queue",
  migrate: "applies migrations and exits",
  admin: "administration command",
};

export interface LiveState {
  /** When the shown data was fetched (ms since epoch). */
  updatedAt: number;
  fetching: boolean;
  failed: boolean;
}

function LiveIndicator({ live }: { live: LiveState }) {
  const hydrated = useHydrated();
  const state = live.failed ? "offline" : "live";
  // Local clock time only once in the browser: the server does not know the viewer's time zone.
  const time = hydrated ? new Date(live.updatedAt).toLocaleTimeString() : null;
  return (
    <span
      className={`live-indicator live-indicator-${state}`}
      data-testid="live-indicator"
      data-state={state}
      data-fetching={live.fetching ? "true" : "false"}
      title={live.failed ? "The last refresh failed; showing the last known state" : "Refreshes every 10 seconds"}
      aria-live="polite"
    >
      <span className="live-dot" aria-hidden="true" />
      <span className="live-label">{live.failed ? "Offline" : "Live"}</span>
      {time ? <span className="live-time">· updated {time}</span> : null}
    </span>
  );
}

function migrationsBadge(m: NonNullable<SystemInfo["database"]["migrations"]>) {
  if (m.current) return <StatusBadge tone="ok" testId="migrations-status">Current</StatusBadge>;
  if (m.applied < m.expected) return <StatusBadge tone="warn" testId="migrations-status">{`${m.expected - m.applied} pending`}</StatusBadge>;
  return (
    <StatusBadge tone="warn" testId="migrations-status" title="The database has migrations this build does not know; this build is older than the schema">
      Ahead of this build
    </StatusBadge>
  );
}

export function SystemInfoPanel({ info, live }: { info: SystemInfo; live: LiveState }) {
  const db = info.database;
  return (
    <section className="panel" data-testid="system-info" aria-labelledby="system-info-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="system-info-title">
            System
          </h2>
          <p className="panel-subtitle">This Cairn process and the database it uses.</p>
        </div>
        <LiveIndicator live={live} />
      </header>

      <dl className="stat-row">
        <div className="stat">
          <dt className="stat-label">Version</dt>
          <dd className="stat-value" data-testid="app-version">
            {info.version}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Mode</dt>
          <dd className="stat-value">
            <span data-testid="app-mode">{info.mode}</span>
            <span className="stat-note">{MODE_SUMMARY[info.mode]}</span>
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Uptime</dt>
          <dd className="stat-value" data-testid="uptime">
            {formatDuration(info.uptime_seconds)}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Database</dt>
          <dd className="stat-value">
            {db.reachable ? (
              <StatusBadge tone="ok" testId="db-status">
                Reachable
              </StatusBadge>
            ) : (
              <StatusBadge tone="danger" testId="db-status">
                Unreachable
              </StatusBadge>
            )}
            {db.reachable ? <span className="stat-note">{formatLatency(db.latency_ms)} round trip</span> : null}
          </dd>
        </div>
      </dl>

      <div className="detail-columns">
        <div className="detail-group">
          <h3 className="detail-group-title">Application</h3>
          <dl className="detail-list">
            <div className="detail-row">
              <dt>State</dt>
              <dd>
                {info.draining ? (
                  <StatusBadge tone="warn" testId="serving-state" title="Shutting down: finishing in-flight work, taking no new work">
                    Draining
                  </StatusBadge>
                ) : (
                  <StatusBadge tone="ok" testId="serving-state">
                    Serving
                  </StatusBadge>
                )}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Started</dt>
              <dd>{formatUtc(info.started_at)}</dd>
            </div>
            <div className="detail-row">
              <dt>Node.js</dt>
              <dd className="mono" data-testid="node-version">
                {info.node_version}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Installation id</dt>
              <dd className="mono break-all" data-testid="installation-id">
                {info.installation_id ?? <span className="muted">Not recorded yet (database not migrated)</span>}
              </dd>
            </div>
          </dl>
        </div>

        <div className="detail-group">
          <h3 className="detail-group-title">Database</h3>
          <dl className="detail-list">
            <div className="detail-row">
              <dt>Kind</dt>
              <dd data-testid="db-kind">{db.kind === "embedded" ? "Embedded PostgreSQL" : "External PostgreSQL"}</dd>
            </div>
            <div className="detail-row">
              <dt>PostgreSQL</dt>
              <dd className="mono" data-testid="db-server-version">
                {db.server_version ?? <span className="muted">Unknown</span>}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Migrations</dt>
              <dd>
                {db.migrations ? (
                  <span className="inline-group">
                    <span data-testid="migrations-count">
                      {db.migrations.applied} of {db.migrations.expected} applied
                    </span>
                    {migrationsBadge(db.migrations)}
                  </span>
                ) : (
                  <span className="muted">Unknown</span>
                )}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Latest migration</dt>
              <dd className="mono break-all">{db.migrations?.latest ?? <span className="muted">None</span>}</dd>
            </div>
            {db.error ? (
              <div className="detail-row">
                <dt>Error</dt>
                <dd className="error-text" data-testid="db-error">
                  {db.error}
                </dd>
              </div>
            ) : null}
          </dl>
        </div>
      </div>
    </section>
  );
}
