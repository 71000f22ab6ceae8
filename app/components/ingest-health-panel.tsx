// A push source's last-ingest health: the latest push decides it; the latest push, last success and last failure
// link to their receipts. The Receipts page (filtered by source) and the source's own page show it.
import type { ReactNode } from "react";
import { Link } from "@remix-run/react";
import { HEALTH_TONE, type IngestHealth } from "../lib/ingest";
import { StatusBadge } from "./status-badge";
import { UtcTime } from "./utc-time";

export function IngestHealthPanel({ health, title, action }: { health: IngestHealth; title: ReactNode; action?: ReactNode }) {
  const h = HEALTH_TONE[health.health];
  return (
    <section className="panel" aria-labelledby="ingest-health-title" data-testid="ingest-health">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="ingest-health-title">
            {title}
          </h2>
          <p className="panel-subtitle">
            <span className="mono">{health.kind}</span> · the latest push decides the health; the past 24 hours: {health.last_24h.received} received, {health.last_24h.done} done, {health.last_24h.failed} failed.
          </p>
        </div>
        <span className="inline-group">
          <StatusBadge tone={h.tone} testId="ingest-health-status">
            {h.label}
          </StatusBadge>
          {action}
        </span>
      </header>
      <dl className="stat-row">
        <div className="stat">
          <dt className="stat-label">Latest push</dt>
          <dd className="stat-value stat-value-small" data-testid="ingest-health-latest">
            {health.last_receipt ? <Link to={`/receipts/${health.last_receipt.receipt_id}`}>{<UtcTime iso={health.last_receipt.received_at} />}</Link> : "—"}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last done</dt>
          <dd className="stat-value stat-value-small">
            <UtcTime iso={health.last_done_at} />
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last failure</dt>
          <dd className="stat-value stat-value-small">
            {health.last_failure ? (
              <Link to={`/receipts/${health.last_failure.receipt_id}`} title={health.last_failure.error?.message}>
                <UtcTime iso={health.last_failure.at} />
              </Link>
            ) : (
              "—"
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}
