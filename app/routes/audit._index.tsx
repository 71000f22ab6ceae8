// The tenant's audit log: filter it (a GET form, so every view is a link), page newest first by cursor, verify the
// hash chain, and export it as JSON Lines that `cairn audit verify` checks offline.
import { useState, type MouseEvent } from "react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useFetcher, useLoaderData } from "@remix-run/react";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import { attempt } from "../lib/auth.server";
import { clientFailure } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { StatusBadge, type StatusTone } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { FilterActions, FilterSelect } from "../components/filter-select";

type ListInput = NonNullable<inferRouterInputs<AppRouter>["audit"]["list"]>;
type AuditEvent = inferRouterOutputs<AppRouter>["audit"]["list"]["items"][number];
type Verification = inferRouterOutputs<AppRouter>["audit"]["verify"];

export const meta: MetaFunction = () => [{ title: pageTitle("Audit") }];

const TEXT_FILTERS = ["actor", "action", "target_type", "target_id"] as const;
const OUTCOMES = ["success", "denied", "failure"] as const;
const EXPORT_URL = "/v1/audit/export";

/** A datetime-local value ("2025-01-31T09:30") read as UTC; full ISO times pass through. */
function utcInstant(value: string): string {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(value)) return `${value}:00Z`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/.test(value)) return `${value}Z`;
  return value;
}

/** The filters in the URL: what the form shows, and the list's input. */
function readFilters(url: URL) {
  const form: Record<string, string> = {};
  for (const key of [...TEXT_FILTERS, "outcome", "from", "to"]) {
    const value = url.searchParams.get(key)?.trim();
    if (value) form[key] = value;
  }
  const input: ListInput = {};
  for (const key of TEXT_FILTERS) if (form[key]) input[key] = form[key];
  if (form.outcome) input.outcome = form.outcome as (typeof OUTCOMES)[number];
  if (form.from) input.from = utcInstant(form.from);
  if (form.to) input.to = utcInstant(form.to);
  const cursor = url.searchParams.get("cursor");
  if (cursor) input.cursor = cursor;
  return { form, input };
}

export async function loader({ context, request }: LoaderFunctionArgs) {
  const { form, input } = readFilters(new URL(request.url));
  const [list, key] = await Promise.all([attempt(request, () => context.caller.audit.list(input)), attempt(request, () => context.caller.audit.publicKey())]);
  return {
    filters: form,
    paged: Boolean(input.cursor),
    items: list.ok ? list.value.items : [],
    nextCursor: list.ok ? list.value.next_cursor : null,
    error: list.ok ? null : list.failure.message,
    signingKey: key.ok ? { id: key.value.key_id, fingerprint: key.value.fingerprint } : null,
  };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const result = await attempt(request, () => context.caller.audit.verify());
  return result.ok ? { ok: true as const, verification: result.value } : { ok: false as const, error: result.failure.message };
}

const OUTCOME_TONE: Record<string, StatusTone> = { success: "ok", denied: "warn", failure: "danger" };

function searchWith(filters: Record<string, string>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...filters, ...extra });
  const text = params.toString();
  return text ? `?${text}` : "";
}

function VerifyResult({ v }: { v: Verification }) {
  if (v.ok) {
    return (
      <Notice tone="success" title="The chain is intact" testId="verify-result">
        {v.checked.toLocaleString("en-US")} events recomputed and linked from the first to the head (seq {v.head_seq}, hash <code className="mono">{v.head_hash.slice(0, 16)}…</code>).
      </Notice>
    );
  }
  const b = v.first_broken!;
  const why: Record<typeof b.reason, string> = {
    hash_mismatch: "the event's content no longer matches its hash: it was edited",
    prev_hash_mismatch: "the event does not point at the one before it: an earlier event was rewritten",
    missing_seq: "an event is missing: it was deleted",
    head_mismatch: "the recorded head of the chain does not match its last event",
  };
  return (
    <Notice tone="error" title={`The chain is broken at seq ${b.seq}`} testId="verify-result">
      <p>
        {why[b.reason]} ({b.reason}). {v.checked.toLocaleString("en-US")} events before it are intact.
      </p>
      <p className="mono break-all">
        expected {b.expected}
        <br />
        found {b.found}
        {b.event_id ? (
          <>
            <br />
            event {b.event_id}
          </>
        ) : null}
      </p>
    </Notice>
  );
}

/**
 * Downloads through audit.export (asking for a passkey step-up when needed). A log too large to build in one response
 * is streamed by following the plain link instead, which now passes because the step-up just happened.
 */
function ExportLink() {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onClick = async (e: MouseEvent<HTMLAnchorElement>) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const file = await runWithStepUp(() => client.audit.export.mutate());
      const url = URL.createObjectURL(new Blob([file.jsonl], { type: file.content_type }));
      const a = document.createElement("a");
      a.href = url;
      a.download = file.filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      if (isStepUpCancelled(err)) return;
      const failure = clientFailure(err);
      if (failure.code === "PAYLOAD_TOO_LARGE") window.location.assign(EXPORT_URL);
      else setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <a className="button" href={EXPORT_URL} onClick={(e) => void onClick(e)} aria-disabled={busy} data-testid="audit-export">
        {busy ? "Exporting…" : "Export JSON Lines"}
      </a>
      {error ? <span className="error-text audit-export-error">{error}</span> : null}
    </>
  );
}

function FilterForm({ filters }: { filters: Record<string, string> }) {
  const field = (name: string, label: string, placeholder: string, hint?: string) => (
    <div className="field">
      <label className="field-label" htmlFor={`audit-${name}`}>
        {label}
      </label>
      <input id={`audit-${name}`} className="input input-compact audit-filter-input" name={name} defaultValue={filters[name] ?? ""} placeholder={placeholder} autoComplete="off" />
      {hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
  return (
    <Form method="get" className="audit-filters" data-testid="audit-filters">
      {field("actor", "Actor", "user:ana@example.com", "Exact, or a prefix ending in *")}
      {field("action", "Action", "api_key.*", "Exact, or a prefix ending in *")}
      {field("target_type", "Target type", "member")}
      {field("target_id", "Target id", "")}
      <FilterSelect id="audit-outcome" label="Outcome" name="outcome" value={filters.outcome} options={OUTCOMES.map((o) => ({ value: o, label: o }))} />
      <div className="field">
        <label className="field-label" htmlFor="audit-from">
          From (UTC)
        </label>
        <input id="audit-from" className="input input-compact audit-filter-input" type="datetime-local" name="from" defaultValue={filters.from ?? ""} />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="audit-to">
          Before (UTC)
        </label>
        <input id="audit-to" className="input input-compact audit-filter-input" type="datetime-local" name="to" defaultValue={filters.to ?? ""} />
      </div>
      <FilterActions clearTo="/audit" filtered={Object.keys(filters).length > 0} />
    </Form>
  );
}

function EventRow({ e }: { e: AuditEvent }) {
  const detailKeys = Object.keys(e.details);
  return (
    <tr data-testid="audit-row">
      <td className="mono nowrap" title={`hash ${e.hash}\nprev ${e.prev_hash}`}>
        {e.seq}
      </td>
      <td>
        <UtcTime iso={e.timestamp} />
      </td>
      <td>
        <span className="cell-stack">
          <span className="break-all">{e.actor}</span>
          <span className="cell-note">
            {e.actor_type}
            {e.ip ? ` · ${e.ip}` : ""}
          </span>
        </span>
      </td>
      <td className="mono">{e.action}</td>
      <td>
        <span className="cell-stack">
          <span>{e.target_type}</span>
          {e.target_id ? <span className="cell-note mono break-all">{e.target_id}</span> : null}
        </span>
      </td>
      <td>
        <StatusBadge tone={OUTCOME_TONE[e.outcome] ?? "neutral"}>{e.outcome}</StatusBadge>
      </td>
      <td className="mono cell-note break-all">{e.request_id ?? "—"}</td>
      <td>
        {detailKeys.length ? (
          <details className="audit-details">
            <summary>{detailKeys.length === 1 ? detailKeys[0] : `${detailKeys.length} fields`}</summary>
            <pre>{JSON.stringify(e.details, null, 2)}</pre>
          </details>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

export default function AuditPage() {
  const { filters, paged, items, nextCursor, error, signingKey } = useLoaderData<typeof loader>();
  const verify = useFetcher<typeof action>();
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="page" data-testid="page-audit">
      <PageHeader
        title="Audit"
        description={
          <>
            Every action in this tenant, including denied attempts, in a hash chain the database refuses to rewrite. Verify the chain here, or export it and check the file offline
            with <code className="mono">cairn audit verify FILE</code>.
          </>
        }
        actions={
          <div className="inline-group">
            <verify.Form method="post">
              <button type="submit" className="button" disabled={verify.state !== "idle"} data-testid="audit-verify">
                {verify.state !== "idle" ? "Verifying…" : "Verify chain"}
              </button>
            </verify.Form>
            <ExportLink />
          </div>
        }
      />

      {verify.data && verify.state === "idle" ? verify.data.ok ? <VerifyResult v={verify.data.verification} /> : <Notice tone="error">{verify.data.error}</Notice> : null}
      {error ? <Notice tone="error">{error}</Notice> : null}

      <section className="panel" aria-label="Audit events">
        <div className="panel-body">
          <FilterForm filters={filters} />
        </div>
        {items.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Seq</th>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Request</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <EventRow key={e.event_id} e={e} />
                ))}
              </tbody>
            </table>
          </div>
        ) : error ? null : filtered || paged ? (
          <p className="panel-empty">No events match these filters{paged ? " on this page" : ""}.</p>
        ) : (
          <EmptyState icon="audit" title="Nothing recorded yet">
            Every change, sign-in and denied attempt in this tenant is written here as it happens.
          </EmptyState>
        )}
        {nextCursor || paged ? (
          <footer className="audit-pager">
            {paged ? (
              <Link to={`/audit${searchWith(filters)}`} className="button button-small">
                Newest
              </Link>
            ) : (
              <span />
            )}
            {nextCursor ? (
              <Link to={`/audit${searchWith(filters, { cursor: nextCursor })}`} className="button button-small" data-testid="audit-next">
                Next page
              </Link>
            ) : null}
          </footer>
        ) : null}
      </section>

      {signingKey ? (
        <p className="muted audit-key-note">
          Exports are signed with key <code className="mono">{signingKey.id}</code>, fingerprint <code className="mono">{signingKey.fingerprint}</code>. Pin it when verifying:{" "}
          <code className="mono">cairn audit verify FILE --public-key key.pem</code>, with the key from <a href="/v1/audit/public-key">/v1/audit/public-key</a>.
        </p>
      ) : null}
    </div>
  );
}
