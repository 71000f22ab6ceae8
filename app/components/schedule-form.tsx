// The fields of a schedule: which source, when (cron + IANA zone), and what happens on overlap and after downtime.
import { Form, Link } from "@remix-run/react";
import { COMMON_TIME_ZONES, CRON_PRESETS, OVERLAP_POLICIES, type OverlapPolicy, type Schedule } from "../lib/control-plane";
import { Notice } from "./notice";

export function ScheduleForm({
  schedule,
  sources,
  defaultSourceId,
  error,
  busy,
  cancelTo,
  embedded = false,
}: {
  schedule?: Schedule;
  /** Sources to choose from when creating; one with `unavailable` (why it takes no schedules) is shown but cannot be chosen. */
  sources?: { id: string; name: string; kind: string; unavailable?: string | null }[];
  defaultSourceId?: string;
  error: string | null;
  busy: boolean;
  cancelTo: string;
  /** Inside another panel: no frame of its own. */
  embedded?: boolean;
}) {
  return (
    <Form method="post" className={embedded ? undefined : "panel"} data-testid="schedule-form">
      {schedule ? <input type="hidden" name="intent" value="update" /> : null}
      <div className="panel-body">
        {error ? (
          <Notice tone="error" testId="schedule-form-error">
            {error}
          </Notice>
        ) : null}
        <div className="form-grid">
          {sources ? (
            <div className="field">
              <label className="field-label" htmlFor="schedule-source">
                Source
              </label>
              <select id="schedule-source" className="input" name="source_id" defaultValue={defaultSourceId ?? ""} required>
                <option value="" disabled>
                  Choose a source
                </option>
                {sources.map((s) => (
                  <option key={s.id} value={s.id} disabled={Boolean(s.unavailable)} title={s.unavailable ?? undefined}>
                    {s.name} ({s.kind}){s.unavailable ? " · receives data by push, no schedules" : ""}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <div className="field">
            <label className="field-label" htmlFor="schedule-cron">
              Cron expression
            </label>
            <input
              id="schedule-cron"
              className="input mono"
              name="cron"
              required
              maxLength={200}
              list="cron-presets"
              defaultValue={schedule?.cron ?? ""}
              placeholder="30 2 * * *"
              autoComplete="off"
              spellCheck={false}
              data-testid="schedule-cron"
            />
            <datalist id="cron-presets">
              {CRON_PRESETS.map((p) => (
                <option key={p.cron} value={p.cron}>
                  {p.label}
                </option>
              ))}
            </datalist>
            <p className="field-hint">minute hour day-of-month month day-of-week, e.g. <code>30 2 * * *</code>; a sixth leading field adds seconds.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="schedule-tz">
              Time zone
            </label>
            <input
              id="schedule-tz"
              className="input mono"
              name="timezone"
              maxLength={64}
              list="time-zones"
              defaultValue={schedule?.timezone ?? "UTC"}
              autoComplete="off"
              spellCheck={false}
              data-testid="schedule-timezone"
            />
            <datalist id="time-zones">
              {COMMON_TIME_ZONES.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <p className="field-hint">Any IANA zone; fire times follow its daylight saving changes.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="schedule-overlap">
              Overlap
            </label>
            <select id="schedule-overlap" className="input" name="overlap_policy" defaultValue={schedule?.overlap_policy ?? "skip"}>
              {OVERLAP_POLICIES.map((p: OverlapPolicy) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <p className="field-hint">When the source still has a run queued or running: skip this fire, allow both, or replace the older run.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="schedule-catch-up">
              Catch-up after downtime
            </label>
            <select id="schedule-catch-up" className="input" name="catch_up" defaultValue={schedule?.catch_up ?? "once"}>
              <option value="once">once: run the latest missed fire</option>
              <option value="none">none: only fires still within the deadline</option>
            </select>
            <p className="field-hint">Missed fires never run once each; at most the latest one does.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="schedule-deadline">
              Starting deadline (seconds)
            </label>
            <input id="schedule-deadline" className="input" type="number" name="starting_deadline_seconds" min={1} max={86400} step={1} defaultValue={schedule?.starting_deadline_seconds ?? 3600} />
            <p className="field-hint">A fire that cannot start within this long is skipped as missed_deadline.</p>
          </div>
          {schedule ? null : (
            <div className="field field-span">
              <div className="checkbox">
                <input id="schedule-enabled" type="checkbox" name="enabled" defaultChecked />
                <span>
                  <label className="checkbox-label" htmlFor="schedule-enabled">
                    Enabled
                  </label>
                  <span className="field-hint">Start firing as soon as it is saved.</span>
                </span>
              </div>
            </div>
          )}
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy} data-testid="schedule-submit">
            {busy ? "Saving…" : schedule ? "Save changes" : "Create schedule"}
          </button>
          <Link to={cancelTo} className="button">
            Cancel
          </Link>
        </div>
      </div>
    </Form>
  );
}
