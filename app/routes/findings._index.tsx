// Findings: what the evidence means under the tenant's policies, newest first, filtered by severity, status, source
// and rule, paged by keyset. Each row opens the finding with its provenance graph.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { FINDING_STATUSES, FINDING_STATUS, SEVERITIES, SEVERITY, type FindingStatus, type Severity } from "../lib/findings";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { KeysetPager } from "../components/keyset-pager";
import { FindingsTable } from "../components/findings-table";
import { FilterActions, FilterSelect } from "../components/filter-select";

export const meta: MetaFunction = () => [{ title: pageTitle("Findings") }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RULE = /^[A-Za-z0-9_.:/@+*-]{1,300}$/;

/** The filters in the URL: what the form shows, and the same filter as the API takes it. */
function readFilters(url: URL) {
  const form: Record<string, string> = {};
  const filter: { severity?: Severity; status?: FindingStatus; source_id?: string; rule?: string } = {};
  const severity = url.searchParams.get("severity");
  if (severity && (SEVERITIES as readonly string[]).includes(severity)) filter.severity = (form.severity = severity) as Severity;
  const status = url.searchParams.get("status");
  if (status && (FINDING_STATUSES as readonly string[]).includes(status)) filter.status = (form.status = status) as FindingStatus;
  const source = url.searchParams.get("source_id");
  if (source && UUID.test(source)) filter.source_id = form.source_id = source;
  const rule = url.searchParams.get("rule")?.trim();
  if (rule && RULE.test(rule)) filter.rule = form.rule = rule;
  return { form, filter, cursor: url.searchParams.get("cursor") ?? undefined };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { form, filter, cursor } = readFilters(new URL(request.url));
  const [page, sources, rules] = await Promise.all([
    load(request, () => context.caller.findings.list({ ...filter, cursor, limit: 50 })),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
    attempt(request, () => context.caller.policies.rules()),
  ]);
  const ruleIds = rules.ok ? [...rules.value.items.map((r) => r.id), ...rules.value.uncatalogued.map((r) => r.rule)] : [];
  return {
    filters: form,
    paged: Boolean(cursor),
    findings: page.items,
    nextCursor: page.next_cursor,
    sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [],
    rules: [...new Set(ruleIds)].sort(),
  };
}

function FilterForm({ filters, sources, rules }: { filters: Record<string, string>; sources: { id: string; name: string }[]; rules: string[] }) {
  return (
    <Form method="get" className="audit-filters" data-testid="findings-filters">
      <FilterSelect id="findings-severity" label="Severity" name="severity" value={filters.severity} options={SEVERITIES.map((s) => ({ value: s, label: SEVERITY[s].label }))} />
      <FilterSelect id="findings-status" label="Status" name="status" value={filters.status} options={FINDING_STATUSES.map((s) => ({ value: s, label: FINDING_STATUS[s].label }))} />
      <FilterSelect
        id="findings-source"
        label="Source"
        name="source_id"
        value={filters.source_id}
        options={[...sources.map((s) => ({ value: s.id, label: s.name })), ...(filters.source_id && !sources.some((s) => s.id === filters.source_id) ? [{ value: filters.source_id, label: filters.source_id }] : [])]}
      />
      <FilterSelect
        id="findings-rule"
        label="Rule"
        name="rule"
        value={filters.rule}
        options={[...rules, ...(filters.rule && !rules.includes(filters.rule) ? [filters.rule] : [])].map((r) => ({ value: r, label: r }))}
      />
      <FilterActions clearTo="/findings" filtered={Object.keys(filters).length > 0} />
    </Form>
  );
}

export default function FindingsPage() {
  const { filters, paged, findings, nextCursor, sources, rules } = useLoaderData<typeof loader>();
  const section = sectionById("findings");
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="page" data-testid="page-findings">
      <PageHeader
        title="Findings"
        description={section.description}
        actions={
          <Link to="/policies" className="button button-small">
            Policies
          </Link>
        }
      />
      <section className="panel" aria-label="Findings">
        <div className="panel-body">
          <FilterForm filters={filters} sources={sources} rules={rules} />
        </div>
        {findings.length ? (
          <FindingsTable findings={findings} />
        ) : filtered || paged ? (
          <p className="panel-empty" data-testid="findings-empty">
            No findings match these filters{paged ? " on this page" : ""}.
          </p>
        ) : (
          <div className="panel-body">
            <EmptyState icon="findings" title={section.emptyTitle}>
              Findings appear when a source runs: <Link to="/sources">run a source</Link> and its evaluate stage records what it found under your <Link to="/policies">policies</Link>.
            </EmptyState>
          </div>
        )}
        <KeysetPager path="/findings" filters={filters} nextCursor={nextCursor} paged={paged} />
      </section>
    </div>
  );
}
