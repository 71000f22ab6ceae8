// Schedules of this tenant: each expression in words, its zone, on/off in place, next and last fire and outcome.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { SchedulesTable } from "../components/schedules-table";
import { FilterActions } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Schedules") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const filters: Record<string, string> = {};
  const enabled = url.searchParams.get("enabled");
  if (enabled === "true" || enabled === "false") filters.enabled = enabled;
  const cursor = url.searchParams.get("cursor") ?? undefined;
  const [page, sources] = await Promise.all([
    load(request, () => context.caller.schedules.list({ enabled: filters.enabled as "true" | "false" | undefined, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
  ]);
  const sourceNames: Record<string, string> = {};
  if (sources.ok) for (const s of sources.value.items) sourceNames[s.source_id] = s.display_name;
  return { filters, paged: Boolean(cursor), schedules: page.items, nextCursor: page.next_cursor, sourceNames };
}

export default function SchedulesPage() {
  const { filters, paged, schedules, nextCursor, sourceNames } = useLoaderData<typeof loader>();
  const section = sectionById("schedules");
  const filtered = Object.keys(filters).length > 0;
  return (
    <div className="page" data-testid="page-schedules">
      <PageHeader
        title="Schedules"
        description={section.description}
        actions={
          <Link to="/schedules/new" className="button button-primary" data-testid="new-schedule">
            New schedule
          </Link>
        }
      />
      <section className="panel" aria-label="Schedules">
        <div className="panel-body">
          <Form method="get" className="audit-filters">
            <div className="field">
              <label className="field-label" htmlFor="schedules-enabled">
                Enabled
              </label>
              <select id="schedules-enabled" className="input input-compact audit-filter-input" name="enabled" defaultValue={filters.enabled ?? ""}>
                <option value="">Any</option>
                <option value="true">Enabled</option>
                <option value="false">Disabled</option>
              </select>
            </div>
            <FilterActions clearTo="/schedules" filtered={filtered} />
          </Form>
        </div>
        {schedules.length ? (
          <SchedulesTable schedules={schedules} sourceNames={sourceNames} />
        ) : filtered || paged ? (
          <p className="panel-empty">No schedules match{paged ? " on this page" : ""}.</p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="schedules" title="No schedules yet">
              Give a source a cron expression and a time zone, and Cairn&rsquo;s scheduler enqueues its runs on time, exactly once across replicas.{" "}
              <Link to="/schedules/new">Create a schedule</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/schedules" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
