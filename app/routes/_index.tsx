import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc";
import { attempt } from "../lib/auth.server";
import { pageTitle } from "../lib/sections";
import { RUN_STATUSES, WORK_TONE, statusLabel, type RunStatus } from "../lib/control-plane";
import { PageHeader } from "../components/page-header";
import { SystemInfoPanel } from "../components/system-info-panel";
import { WhatsNextPanel } from "../components/whats-next-panel";
import { UtcTime } from "../components/utc-time";
import { RunLink } from "../components/work-status";

export const meta: MetaFunction = () => [{ title: pageTitle("Overview") }];

const DAY_MS = 86_400_000;
/** Counting stops here: the overview stays cheap however much history there is. */
const RUN_PAGES = 4;
const RUN_PAGE = 500;

/** The tenant's work at a glance, from the same list procedures the pages use; a figure the role cannot read is left out. */
async function workSummary(context: LoaderFunctionArgs["context"], request: Request) {
  const caller = context.caller;
  const since = new Date(Date.now() - DAY_MS).toISOString();
  const [sources, failing, queued, runs] = await Promise.all([
    attempt(request, () => caller.sources.list({ limit: 200 })),
    attempt(request, () => caller.runs.stillFailing()),
    attempt(request, () => caller.jobs.list({ status: "queued", limit: 500 })),
    attempt(request, async () => {
      const byStatus: Partial<Record<RunStatus, number>> = {};
      let cursor: string | undefined;
      let more = false;
      for (let i = 0; i < RUN_PAGES; i++) {
        const page = await caller.runs.list({ created_after: since, cursor, limit: RUN_PAGE });
        for (const r of page.items) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        more = page.next_cursor !== null;
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return { byStatus, more };
    }),
  ]);
  return {
    sources: sources.ok
      ? {
          total: sources.value.items.length,
          more: sources.value.next_cursor !== null,
          unsupported: sources.value.items.filter((s) => s.status === "unsupported").length,
          disabled: sources.value.items.filter((s) => s.status === "disabled").length,
        }
      : null,
    failing: failing.ok ? failing.value.items : null,
    queued: queued.ok ? { count: queued.value.items.length, more: queued.value.next_cursor !== null } : null,
    runs: runs.ok ? runs.value : null,
  };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const [info, work] = await Promise.all([context.caller.system.info(), workSummary(context, request)]);
  return { info, loadedAt: Date.now(), work };
}

const REFRESH_MS = 10_000;

type Work = Awaited<ReturnType<typeof workSummary>>;

function WorkPanel({ work }: { work: Work }) {
  const runTotal = work.runs ? Object.values(work.runs.byStatus).reduce((a, b) => a + (b ?? 0), 0) : 0;
  return (
    <section className="panel" aria-labelledby="work-title" data-testid="work-summary">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="work-title">
            Work
          </h2>
          <p className="panel-subtitle">Sources, the last day&rsquo;s runs and what still fails in this tenant.</p>
        </div>
      </header>
      <dl className="stat-row">
        <div className="stat">
          <dt className="stat-label">Sources</dt>
          <dd className="stat-value">
            {work.sources ? (
              <>
                <Link to="/sources" data-testid="count-sources">
                  {work.sources.total}
                  {work.sources.more ? "+" : ""}
                </Link>
                <span className="stat-note">
                  {work.sources.disabled} disabled · {work.sources.unsupported} unsupported
                </span>
              </>
            ) : (
              <span className="stat-note">Not visible to your role</span>
            )}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Runs, last 24 h</dt>
          <dd className="stat-value">
            {work.runs ? (
              <>
                <Link to="/runs" data-testid="count-runs-24h">
                  {runTotal.toLocaleString("en-US")}
                  {work.runs.more ? "+" : ""}
                </Link>
                <span className="stat-note">
                  {(work.runs.byStatus.succeeded ?? 0).toLocaleString("en-US")} succeeded · {((work.runs.byStatus.failed ?? 0) + (work.runs.byStatus.timed_out ?? 0)).toLocaleString("en-US")} failed
                </span>
              </>
            ) : (
              <span className="stat-note">Not visible to your role</span>
            )}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Still failing</dt>
          <dd className="stat-value">
            {work.failing ? (
              <>
                <Link to="/runs" className={work.failing.length ? "error-text" : undefined} data-testid="count-still-failing">
                  {work.failing.length}
                </Link>
                <span className="stat-note">{work.failing.length ? "sources whose latest run failed" : "every source is healthy"}</span>
              </>
            ) : (
              <span className="stat-note">Not visible to your role</span>
            )}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Queued jobs</dt>
          <dd className="stat-value">
            {work.queued ? (
              <>
                <Link to="/jobs?status=queued" data-testid="count-queued">
                  {work.queued.count}
                  {work.queued.more ? "+" : ""}
                </Link>
                <span className="stat-note">waiting for a worker</span>
              </>
            ) : (
              <span className="stat-note">Not visible to your role</span>
            )}
          </dd>
        </div>
      </dl>
      {work.runs && runTotal > 0 ? (
        <div className="panel-body">
          <div className="status-bar" role="img" aria-label={RUN_STATUSES.filter((s) => work.runs!.byStatus[s]).map((s) => `${work.runs!.byStatus[s]} ${statusLabel(s).toLowerCase()}`).join(", ")}>
            {RUN_STATUSES.filter((s) => work.runs!.byStatus[s]).map((s) => (
              <span key={s} className={`status-bar-segment status-bar-${WORK_TONE[s]}`} style={{ flexGrow: work.runs!.byStatus[s] }} title={`${work.runs!.byStatus[s]} ${statusLabel(s).toLowerCase()}`} />
            ))}
          </div>
          <p className="status-bar-legend">
            {RUN_STATUSES.filter((s) => work.runs!.byStatus[s]).map((s) => (
              <Link key={s} to={`/runs?status=${s}`} className="status-bar-key">
                <span className={`status-bar-swatch status-bar-${WORK_TONE[s]}`} aria-hidden="true" />
                {statusLabel(s)} <span className="muted">{work.runs!.byStatus[s]}</span>
              </Link>
            ))}
          </p>
        </div>
      ) : null}
      {work.failing && work.failing.length ? (
        <div className="table-wrap">
          <table className="table table-dense" data-testid="overview-failing">
            <thead>
              <tr>
                <th scope="col">Failing source</th>
                <th scope="col">Latest run</th>
                <th scope="col">Error</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {work.failing.slice(0, 5).map((f) => (
                <tr key={f.source_id}>
                  <td className="cell-name">
                    <Link to={`/sources/${f.source_id}`} className="cell-title">
                      {f.display_name}
                    </Link>
                  </td>
                  <td>
                    <RunLink runId={f.run_id} />
                  </td>
                  <td className="run-error-cell">
                    <span className="cell-note error-text">{f.error ?? "—"}</span>
                  </td>
                  <td>
                    <UtcTime iso={f.failing_since} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export default function Overview() {
  const loaderData = useLoaderData<typeof loader>();
  const trpc = useTRPC();
  // Server-rendered from the loader, then kept fresh in the browser through the same procedure.
  const query = useQuery(
    trpc.system.info.queryOptions(undefined, {
      initialData: loaderData.info,
      initialDataUpdatedAt: loaderData.loadedAt,
      refetchInterval: REFRESH_MS,
    }),
  );

  return (
    <div className="page" data-testid="page-overview">
      <PageHeader title="Overview" description="The health of this installation and of the work it runs. Pending join requests and role coverage join it with the node fabric." />
      <WorkPanel work={loaderData.work} />
      <SystemInfoPanel info={query.data} live={{ updatedAt: query.dataUpdatedAt, fetching: query.isFetching, failed: query.isError }} />
      <WhatsNextPanel />
    </div>
  );
}
