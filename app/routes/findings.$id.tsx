// One finding: what it is and where, its lifecycle, the provenance graph back to its source, the evidence it was
// seen in, and its exceptions (request one; admins approve, reject or revoke).
import { data, type ActionFunctionArgs, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import flowStyles from "@xyflow/react/dist/style.css";
import { attempt, load } from "../lib/auth.server";
import { currentMembership, useMe } from "../lib/identity";
import { shortId, who } from "../lib/control-plane";
import { ENFORCEMENT_LABEL, EXCEPTION_TONE, FINDING_STATUS, RESOLUTION_LABEL, SEVERITY, type FindingDetail, type FindingException } from "../lib/findings";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { RunLink } from "../components/work-status";
import { ProvenanceGraph } from "../components/provenance-graph";

// React Flow's own stylesheet, linked where the graph is drawn.
export const links: LinksFunction = () => [{ rel: "stylesheet", href: flowStyles }];

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? data.finding.title : "Finding") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  const [finding, provenance] = await Promise.all([load(request, () => context.caller.findings.get({ id })), load(request, () => context.caller.findings.provenance({ id }))]);
  return { finding, provenance };
}

const DAY = 86_400_000;

export async function action({ context, request, params }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = String(form.get("intent") ?? "");
  const id = params.id ?? "";
  if (intent === "request") {
    const days = Number(form.get("days"));
    if (!Number.isInteger(days) || days < 1 || days > 365) return data({ ok: false as const, intent, error: "Expires in: a whole number of days from 1 to 365" }, { status: 400 });
    const reason = String(form.get("reason") ?? "");
    const r = await attempt(request, () => context.caller.findings.requestException({ id, reason, expires_at: new Date(Date.now() + days * DAY).toISOString() }));
    if (!r.ok) return data({ ok: false as const, intent, error: r.failure.message }, { status: r.failure.status });
    return { ok: true as const, intent };
  }
  if (intent === "approve" || intent === "reject" || intent === "revoke") {
    const exceptionId = String(form.get("exception_id") ?? "");
    const note = String(form.get("note") ?? "").trim() || undefined;
    const call = { approve: context.caller.findings.approveException, reject: context.caller.findings.rejectException, revoke: context.caller.findings.revokeException }[intent];
    const r = await attempt(request, () => call({ id: exceptionId, note }));
    if (!r.ok) return data({ ok: false as const, intent, error: r.failure.message }, { status: r.failure.status });
    return { ok: true as const, intent };
  }
  return data({ ok: false as const, intent, error: "Unknown action" }, { status: 400 });
}

function Facts({ finding }: { finding: FindingDetail }) {
  return (
    <section className="panel" aria-labelledby="finding-facts-title">
      <h2 className="visually-hidden" id="finding-facts-title">
        Finding facts
      </h2>
      <dl className="stat-row">
        <div className="stat">
          <dt className="stat-label">First seen</dt>
          <dd className="stat-value stat-value-small">
            <UtcTime iso={finding.first_seen_at} />
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last seen</dt>
          <dd className="stat-value stat-value-small" data-testid="finding-last-seen">
            <UtcTime iso={finding.last_seen_at} />
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Evidence</dt>
          <dd className="stat-value" data-testid="finding-evidence-count">
            {finding.evidence_total}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Reopened</dt>
          <dd className="stat-value">{finding.reopened_count}</dd>
        </div>
      </dl>
    </section>
  );
}

function What({ finding }: { finding: FindingDetail }) {
  return (
    <section className="panel" aria-labelledby="finding-what-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="finding-what-title">
            What and where
          </h2>
          {finding.rule_description ? <p className="panel-subtitle">{finding.rule_description}</p> : <p className="panel-subtitle">Rule {finding.rule} is not in the built-in catalogue: its producer defined it.</p>}
        </div>
      </header>
      <div className="detail-columns">
        <dl className="detail-group">
          <div className="detail-row">
            <dt>Rule</dt>
            <dd>
              <code data-testid="finding-rule">{finding.rule}</code>
              {finding.rule_title ? <span className="muted"> · {finding.rule_title}</span> : null}
            </dd>
          </div>
          <div className="detail-row">
            <dt>Where</dt>
            <dd className="mono break-all" data-testid="finding-where">
              {finding.where ?? "—"}
            </dd>
          </div>
          <div className="detail-row">
            <dt>Asset</dt>
            <dd className="break-all">
              {finding.asset ? (
                <>
                  {finding.asset.name ?? finding.asset.key} {finding.asset.type ? <span className="muted">({finding.asset.type})</span> : null}
                </>
              ) : (
                "—"
              )}
            </dd>
          </div>
          <div className="detail-row">
            <dt>Fingerprint</dt>
            <dd className="mono break-all">{finding.fingerprint}</dd>
          </div>
        </dl>
        <dl className="detail-group">
          <div className="detail-row">
            <dt>Source</dt>
            <dd>
              <Link to={`/sources/${finding.source_id}`} data-testid="finding-source-link">
                {finding.source_name ?? shortId(finding.source_id)}
              </Link>
            </dd>
          </div>
          <div className="detail-row">
            <dt>First seen in</dt>
            <dd>{finding.first_run_id ? <RunLink runId={finding.first_run_id} /> : "—"}</dd>
          </div>
          <div className="detail-row">
            <dt>Last seen in</dt>
            <dd>{finding.last_run_id ? <RunLink runId={finding.last_run_id} /> : "—"}</dd>
          </div>
          {finding.resolved_run_id ? (
            <div className="detail-row">
              <dt>Resolved by</dt>
              <dd>
                <RunLink runId={finding.resolved_run_id} />
              </dd>
            </div>
          ) : null}
          <div className="detail-row">
            <dt>Policy</dt>
            <dd data-testid="finding-enforcement">
              {ENFORCEMENT_LABEL[finding.enforcement] ?? finding.enforcement}
              {finding.policy_binding_ids.length ? (
                <>
                  {" "}
                  · <Link to="/policies">bindings</Link>
                </>
              ) : null}
            </dd>
          </div>
        </dl>
      </div>
      {Object.keys(finding.details).length ? (
        <div className="panel-body">
          <h3 className="detail-group-title">Details</h3>
          <pre className="scope-block finding-details" data-testid="finding-details">
            {JSON.stringify(finding.details, null, 2)}
          </pre>
        </div>
      ) : null}
    </section>
  );
}

function EvidenceLinks({ finding }: { finding: FindingDetail }) {
  return (
    <section className="panel" aria-labelledby="finding-evidence-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="finding-evidence-title">
            Evidence <span className="muted">· {finding.evidence_total}</span>
          </h2>
          <p className="panel-subtitle">Every stored, signed object this finding was seen in (newest first). Open one to verify or download it.</p>
        </div>
      </header>
      {finding.evidence.length ? (
        <div className="table-wrap">
          <table className="table table-dense" data-testid="finding-evidence">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Produced by</th>
                <th scope="col">Linked</th>
              </tr>
            </thead>
            <tbody>
              {finding.evidence.map((e) => (
                <tr key={e.evidence_id} data-testid="finding-evidence-row">
                  <td>
                    <span className="cell-stack">
                      <Link to={`/evidence/${e.evidence_id}`} className="cell-title" data-testid="finding-evidence-link">
                        {e.kind}
                      </Link>
                      <span className="cell-note">
                        {e.size.toLocaleString("en-US")} bytes · {e.signed ? "signed" : "not signed"}
                      </span>
                    </span>
                  </td>
                  <td className="mono" title={e.hash}>
                    {e.hash.slice(0, 16)}…
                  </td>
                  <td>{e.evidence_run_id ? <RunLink runId={e.evidence_run_id} /> : "—"}</td>
                  <td>
                    <span className="cell-stack">
                      <UtcTime iso={e.linked_at} />
                      {e.linked_by_run_id && e.linked_by_run_id !== e.evidence_run_id ? (
                        <span className="cell-note">
                          re-evaluated by <RunLink runId={e.linked_by_run_id} />
                        </span>
                      ) : null}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="panel-empty">No evidence is linked to this finding.</p>
      )}
    </section>
  );
}

function DecideButtons({ exception, canDecide }: { exception: FindingException; canDecide: boolean }) {
  const fetcher = useFetcher<typeof action>();
  if (!canDecide) return null;
  const busy = fetcher.state !== "idle";
  const button = (intent: "approve" | "reject" | "revoke", label: string, primary = false) => (
    <fetcher.Form method="post" key={intent}>
      <input type="hidden" name="intent" value={intent} />
      <input type="hidden" name="exception_id" value={exception.exception_id} />
      <button type="submit" className={`button button-small${primary ? " button-primary" : ""}`} disabled={busy} data-testid={`exception-${intent}`}>
        {label}
      </button>
    </fetcher.Form>
  );
  return (
    <span className="inline-group">
      {exception.status === "requested" ? [button("approve", "Approve", true), button("reject", "Reject")] : null}
      {exception.status === "requested" || exception.status === "approved" ? button("revoke", "Revoke") : null}
      {fetcher.state === "idle" && fetcher.data && !fetcher.data.ok ? <span className="cell-note error-text">{fetcher.data.error}</span> : null}
    </span>
  );
}

function Exceptions({ finding, canRequest, canDecide }: { finding: FindingDetail; canRequest: boolean; canDecide: boolean }) {
  const request = useFetcher<typeof action>();
  const live = finding.exceptions.find((e) => e.status === "requested" || e.status === "approved");
  const requestable = canRequest && !live && finding.status !== "resolved";
  return (
    <section className="panel" aria-labelledby="finding-exceptions-title" data-testid="finding-exceptions">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="finding-exceptions-title">
            Exceptions
          </h2>
          <p className="panel-subtitle">An approved exception suppresses this finding with a reason until it expires; then the finding reopens. Admins approve.</p>
        </div>
      </header>
      {requestable ? (
        <div className="panel-body">
          {request.state === "idle" && request.data && !request.data.ok ? (
            <Notice tone="error" testId="exception-error">
              {request.data.error}
            </Notice>
          ) : null}
          <request.Form method="post" className="form-grid" data-testid="exception-request">
            <input type="hidden" name="intent" value="request" />
            <div className="field field-span">
              <label className="field-label" htmlFor="exception-reason">
                Reason
              </label>
              <input id="exception-reason" className="input" name="reason" required maxLength={2000} autoComplete="off" placeholder="Test credential, rotated weekly; moving to the vault this sprint" />
            </div>
            <div className="field">
              <label className="field-label" htmlFor="exception-days">
                Expires in (days)
              </label>
              <input id="exception-days" className="input" name="days" type="number" min={1} max={365} defaultValue={30} required />
            </div>
            <div className="form-actions field-span">
              <button type="submit" className="button button-primary" disabled={request.state !== "idle"} data-testid="exception-submit">
                {request.state !== "idle" ? "Requesting…" : "Request exception"}
              </button>
            </div>
          </request.Form>
        </div>
      ) : null}
      {finding.exceptions.length ? (
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col">Status</th>
                <th scope="col">Expires</th>
                <th scope="col">Requested / decided by</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {finding.exceptions.map((e) => (
                <tr key={e.exception_id} data-testid="exception-row" data-status={e.status}>
                  <td className="cell-name">
                    <span className="cell-stack">
                      <span className="cell-title">{e.reason}</span>
                      {e.decision_note ? <span className="cell-note">“{e.decision_note}”</span> : null}
                    </span>
                  </td>
                  <td>
                    <StatusBadge tone={EXCEPTION_TONE[e.status] ?? "neutral"}>{e.status.charAt(0).toUpperCase() + e.status.slice(1)}</StatusBadge>
                  </td>
                  <td>
                    <UtcTime iso={e.expires_at} />
                  </td>
                  <td>
                    <span className="cell-stack">
                      <span>{who(e.requested_by)}</span>
                      {e.decided_by ? <span className="cell-note">{who(e.decided_by)}</span> : null}
                    </span>
                  </td>
                  <td className="cell-actions">
                    <DecideButtons exception={e} canDecide={canDecide} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : !requestable ? (
        <p className="panel-empty">No exceptions.</p>
      ) : null}
    </section>
  );
}

export default function FindingPage() {
  const { finding, provenance } = useLoaderData<typeof loader>();
  const role = currentMembership(useMe())?.role;
  const severity = SEVERITY[finding.severity];
  const status = FINDING_STATUS[finding.status];

  return (
    <div className="page" data-testid="page-finding" data-finding-id={finding.finding_id} data-status={finding.status}>
      <p className="breadcrumb">
        <Link to="/findings">Findings</Link> <span aria-hidden="true">/</span> <Link to={`/sources/${finding.source_id}`}>{finding.source_name ?? shortId(finding.source_id)}</Link>
      </p>
      <PageHeader
        title={finding.title}
        description={
          <span className="inline-group">
            <StatusBadge tone={severity.tone} testId="finding-severity">
              {severity.label}
            </StatusBadge>
            <StatusBadge tone={status.tone} title={status.title} testId="finding-status">
              {status.label}
            </StatusBadge>
            <span>
              <code>{finding.rule}</code> from <Link to={`/sources/${finding.source_id}`}>{finding.source_name ?? finding.source_id}</Link>
            </span>
          </span>
        }
      />
      {finding.status === "resolved" ? (
        <Notice tone="success" title="Resolved" testId="finding-resolved">
          Resolved <UtcTime iso={finding.resolved_at} /> because {RESOLUTION_LABEL[finding.resolution ?? ""] ?? "it was resolved"}. It reopens if a later run sees it again.
        </Notice>
      ) : finding.enforcement === "enforce" && finding.status === "open" ? (
        <Notice tone="error" title="Enforced" testId="finding-enforced">
          A policy binding in enforce mode covers this rule: while this finding is open, its source&rsquo;s runs fail their evaluate stage.
        </Notice>
      ) : null}
      <Facts finding={finding} />
      <section className="panel" aria-labelledby="provenance-title" data-testid="provenance">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="provenance-title">
              Provenance
            </h2>
            <p className="panel-subtitle">
              Why this finding exists: the evidence it was seen in, the job and run that produced it, the source, and who or what started the run
              {provenance.evidence_total > provenance.evidence_shown ? ` (the ${provenance.evidence_shown} most recent of ${provenance.evidence_total} evidence links)` : ""}. Each node links to its page.
            </p>
          </div>
        </header>
        <ProvenanceGraph graph={provenance} />
      </section>
      <What finding={finding} />
      <EvidenceLinks finding={finding} />
      <Exceptions finding={finding} canRequest={role === "admin" || role === "operator"} canDecide={role === "admin"} />
    </div>
  );
}
