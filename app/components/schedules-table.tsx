// Schedules: expression and its reading, zone, on/off in place, next and last fire with the outcome.
// The switch posts to the schedule's own page action, so any page listing schedules can offer it.
import { Link, useFetcher } from "@remix-run/react";
import { shortId, type Schedule } from "../lib/control-plane";
import { StatusBadge } from "./status-badge";
import { UtcTime } from "./utc-time";
import { RunLink } from "./work-status";

/** `enqueued` or `skipped:<reason>` as a badge. */
export function TickOutcome({ outcome }: { outcome: string | null }) {
  if (!outcome) return <span className="muted">—</span>;
  if (outcome === "enqueued") return <StatusBadge tone="ok">Enqueued</StatusBadge>;
  const [kind, reason] = outcome.split(":");
  return (
    <StatusBadge tone="warn" title={reason ? `Skipped: ${reason.replace(/_/g, " ")}` : undefined}>
      {kind === "skipped" ? `Skipped${reason ? ` · ${reason.replace(/_/g, " ")}` : ""}` : outcome}
    </StatusBadge>
  );
}

export function EnabledToggle({ schedule }: { schedule: Schedule }) {
  const fetcher = useFetcher<{ ok: boolean; error?: string }>();
  // Show the intended state while the change is on its way.
  const pending = fetcher.formData?.get("enabled");
  const enabled = pending !== undefined && pending !== null ? pending === "true" : schedule.enabled;
  const failed = fetcher.state === "idle" && fetcher.data && !fetcher.data.ok ? fetcher.data.error : null;
  return (
    <fetcher.Form method="post" action={`/schedules/${schedule.schedule_id}`} className="toggle-form">
      <input type="hidden" name="intent" value="toggle" />
      <input type="hidden" name="enabled" value={enabled ? "false" : "true"} />
      <button
        type="submit"
        className={`switch${enabled ? " switch-on" : ""}`}
        role="switch"
        aria-checked={enabled}
        aria-label={enabled ? "Enabled: disable this schedule" : "Disabled: enable this schedule"}
        disabled={fetcher.state !== "idle"}
        data-testid="schedule-toggle"
      >
        <span className="switch-knob" aria-hidden="true" />
      </button>
      <span className="switch-label">{enabled ? "On" : "Off"}</span>
      {failed ? <span className="cell-note error-text">{failed}</span> : null}
    </fetcher.Form>
  );
}

export function SchedulesTable({ schedules, sourceNames }: { schedules: Schedule[]; sourceNames?: Record<string, string> }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid="schedules-table">
        <thead>
          <tr>
            <th scope="col">Schedule</th>
            {sourceNames ? <th scope="col">Source</th> : null}
            <th scope="col">Time zone</th>
            <th scope="col">Enabled</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {schedules.map((s) => (
            <tr key={s.schedule_id} data-testid="schedule-row" data-schedule-id={s.schedule_id}>
              <td className="cell-name">
                <span className="cell-stack">
                  <Link to={`/schedules/${s.schedule_id}`} className="cell-title mono">
                    {s.cron}
                  </Link>
                  <span className="cell-note">{s.description}</span>
                </span>
              </td>
              {sourceNames ? (
                <td>
                  <Link to={`/sources/${s.source_id}`} className="cell-ellipsis" title={s.source_id}>
                    {sourceNames[s.source_id] ?? shortId(s.source_id)}
                  </Link>
                </td>
              ) : null}
              <td className="mono nowrap">{s.timezone}</td>
              <td>
                <EnabledToggle schedule={s} />
              </td>
              <td>{s.enabled ? <UtcTime iso={s.next_run_at} /> : <span className="muted">Off</span>}</td>
              <td>
                <span className="cell-stack">
                  <UtcTime iso={s.last_fire_at ?? s.last_run_at} empty="Never" />
                  <span className="inline-group">
                    <TickOutcome outcome={s.last_outcome} />
                    {s.last_run_id ? <RunLink runId={s.last_run_id} /> : null}
                  </span>
                </span>
              </td>
              <td className="cell-actions">
                <Link to={`/schedules/${s.schedule_id}`} className="button button-small">
                  Open
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
