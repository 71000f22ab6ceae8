// One schedule: the next fire times in its zone (with what daylight saving does to them), its settings to edit,
// on/off, delete, and its tick history: every fire time decided, and why a skipped one was skipped.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { readScheduleForm } from "../lib/schedule-form-data";
import { OVERLAP_SUMMARY, shortId } from "../lib/control-plane";
import { formatUtc } from "../lib/format";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { ConfirmButton } from "../components/confirm-button";
import { KeysetPager } from "../components/keyset-pager";
import { ScheduleForm } from "../components/schedule-form";
import { EnabledToggle, TickOutcome } from "../components/schedules-table";
import { UtcTime } from "../components/utc-time";
import { RunLink } from "../components/work-status";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Schedule ${data.schedule.cron}` : "Schedule") }];

const PREVIEW = 5;

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const id = params.id ?? "";
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const schedule = await load(request, () => context.caller.schedules.get({ id }));
  const [upcoming, ticks, source] = await Promise.all([
    attempt(request, () => context.caller.schedules.upcoming({ id, count: PREVIEW })),
    load(request, () => context.caller.schedules.ticks({ id, cursor, limit: 25 })),
    attempt(request, () => context.caller.sources.get({ id: schedule.source_id })),
  ]);
  return {
    schedule,
    upcoming: upcoming.ok ? upcoming.value : null,
    upcomingError: upcoming.ok ? null : upcoming.failure.message,
    ticks: ticks.items,
    nextCursor: ticks.next_cursor,
    paged: Boolean(cursor),
    sourceName: source.ok ? source.value.display_name : null,
    created: url.searchParams.has("created"),
    saved: url.searchParams.has("saved"),
  };
}

export async function action({ context, request, params }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = String(form.get("intent") ?? "");
  const id = params.id ?? "";
  if (intent === "toggle") {
    const r = await attempt(request, () => context.caller.schedules.toggle({ id, enabled: form.get("enabled") === "true" }));
    return r.ok ? { intent, ok: true as const } : data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
  }
  if (intent === "update") {
    const r = await attempt(request, () => context.caller.schedules.update({ id, ...readScheduleForm(form) }));
    if (!r.ok) return data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
    throw redirect(`/schedules/${id}?saved=1`);
  }
  if (intent === "delete") {
    const r = await attempt(request, () => context.caller.schedules.remove({ id }));
    if (!r.ok) return data({ intent, ok: false as const, error: r.failure.message }, { status: r.failure.status });
    throw redirect("/schedules");
  }
  return data({ intent, ok: false as const, error: "Unknown action" }, { status: 400 });
}

const DST_NOTE: Record<string, string> = {
  gap_shifted: "This wall time does not exist that day (clocks spring forward): it fires at the first instant after the gap",
  repeated_first: "This wall time occurs twice that day (clocks fall back): the first occurrence",
  repeated_second: "This wall time occurs twice that day (clocks fall back): the second occurrence",
};

export default function SchedulePage() {
  const { schedule, upcoming, upcomingError, ticks, nextCursor, paged, sourceName, created, saved } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const remove = useFetcher<typeof action>();
  const formError = result && !result.ok && result.intent === "update" ? result.error : null;
  const removeError = remove.state === "idle" && remove.data && !remove.data.ok ? remove.data.error : null;

  return (
    <div className="page" data-testid="page-schedule" data-schedule-id={schedule.schedule_id}>
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> <span aria-hidden="true">/</span> <Link to={`/sources/${schedule.source_id}?tab=schedules`}>{sourceName ?? shortId(schedule.source_id)}</Link>
      </p>
      <PageHeader
        title={schedule.description.charAt(0).toUpperCase() + schedule.description.slice(1)}
        description={
          <span className="inline-group">
            <code className="mono" data-testid="schedule-cron-view">
              {schedule.cron}
            </code>
            <span>
              in <span className="mono">{schedule.timezone}</span> for{" "}
              <Link to={`/sources/${schedule.source_id}`}>{sourceName ?? schedule.source_id}</Link>
            </span>
          </span>
        }
        actions={
          <div className="inline-group header-actions">
            <EnabledToggle schedule={schedule} />
            <ConfirmButton
              label="Delete"
              prompt="Delete this schedule and its tick history?"
              confirmLabel="Delete"
              busy={remove.state !== "idle"}
              testId="delete-schedule"
              onConfirm={() => remove.submit({ intent: "delete" }, { method: "post" })}
            />
          </div>
        }
      />
      {created ? (
        <Notice tone="success" testId="schedule-created">
          Schedule created. {schedule.enabled ? "Its next fire times are below." : "It is disabled: switch it on to start firing."}
        </Notice>
      ) : saved ? (
        <Notice tone="success" testId="schedule-saved">
          Saved. A new expression or zone counts from now.
        </Notice>
      ) : null}
      {removeError ? <Notice tone="error">{removeError}</Notice> : null}

      <section className="panel" aria-labelledby="upcoming-title" data-testid="upcoming">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="upcoming-title">
              Next {PREVIEW} fire times
            </h2>
            <p className="panel-subtitle">
              {schedule.enabled ? "What the scheduler will enqueue, in the schedule's zone and in UTC." : "What it would enqueue once enabled."} Overlap:{" "}
              {OVERLAP_SUMMARY[schedule.overlap_policy].toLowerCase()}.
            </p>
          </div>
        </header>
        {upcoming && upcoming.items.length ? (
          <div className="table-wrap">
            <table className="table table-dense">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Local time ({upcoming.timezone})</th>
                  <th scope="col">UTC offset</th>
                  <th scope="col">Instant (UTC)</th>
                  <th scope="col">Daylight saving</th>
                </tr>
              </thead>
              <tbody>
                {upcoming.items.map((f, i) => (
                  <tr key={f.fire_time} data-testid="upcoming-row">
                    <td className="muted">{i + 1}</td>
                    <td className="mono nowrap">{f.local_time.replace("T", " ")}</td>
                    <td className="mono">{f.utc_offset}</td>
                    <td className="mono nowrap">{f.fire_time.replace("T", " ").replace(/\.\d+Z$|Z$/, "")}</td>
                    <td>{f.dst ? <span title={DST_NOTE[f.dst]}>{f.dst.replace(/_/g, " ")}</span> : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="panel-empty">{upcomingError ?? "This expression never fires."}</p>
        )}
      </section>

      <section className="panel" aria-labelledby="schedule-settings-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="schedule-settings-title">
              Settings
            </h2>
            <p className="panel-subtitle">
              Next run {schedule.enabled && schedule.next_run_at ? formatUtc(schedule.next_run_at) : "none (disabled)"} · last decided fire{" "}
              {schedule.last_fire_at ? formatUtc(schedule.last_fire_at) : "none yet"}
            </p>
          </div>
          {schedule.last_outcome ? <TickOutcome outcome={schedule.last_outcome} /> : null}
        </header>
        <ScheduleForm schedule={schedule} error={formError} busy={navigation.state === "submitting"} cancelTo="/schedules" embedded />
      </section>

      <section className="panel" aria-labelledby="ticks-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="ticks-title">
              Tick history
            </h2>
            <p className="panel-subtitle">Every fire time the scheduler decided, newest first: the run it enqueued, or why it skipped.</p>
          </div>
        </header>
        {ticks.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="ticks-table">
              <thead>
                <tr>
                  <th scope="col">Fire time</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Detail</th>
                  <th scope="col">Run</th>
                  <th scope="col">Decided</th>
                </tr>
              </thead>
              <tbody>
                {ticks.map((t) => (
                  <tr key={t.tick_id} data-testid="tick-row">
                    <td>
                      <UtcTime iso={t.fire_time} />
                    </td>
                    <td>
                      <TickOutcome outcome={t.reason ? `${t.outcome}:${t.reason}` : t.outcome} />
                    </td>
                    <td className="cell-note">{t.detail ?? "—"}</td>
                    <td>{t.run_id ? <RunLink runId={t.run_id} /> : <span className="muted">—</span>}</td>
                    <td>
                      <span className="cell-stack">
                        <UtcTime iso={t.decided_at} />
                        <span className="cell-note mono">{t.decided_by}</span>
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="panel-empty">No fire times decided yet.</p>
        )}
        <KeysetPager path={`/schedules/${schedule.schedule_id}`} filters={{}} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
