// One evidence object: what it is (kind, content type, size), its SHA-256 and the key that signed it, who produced
// it (source, run, job), how many findings were seen in it; verify (re-hash and check the signature, audited) and
// download.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle } from "../lib/sections";
import { shortId } from "../lib/control-plane";
import { formatBytes } from "../lib/ingest";
import { verificationSummary, type EvidenceVerification } from "../lib/evidence";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { CopyButton } from "../components/copy-button";
import { RunLink } from "../components/work-status";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Evidence ${shortId(data.evidence.evidence_id)}` : "Evidence") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const evidence = await load(request, () => context.caller.evidence.get({ id: params.id ?? "" }));
  return { evidence };
}

type VerifyResult = { ok: true; verification: EvidenceVerification } | { ok: false; error: string };

export async function action({ context, request, params }: ActionFunctionArgs) {
  const form = await request.formData();
  if (form.get("intent") !== "verify") return data<VerifyResult>({ ok: false, error: "Unknown action" }, { status: 400 });
  const r = await attempt(request, () => context.caller.evidence.verify({ id: params.id ?? "" }));
  return r.ok ? data<VerifyResult>({ ok: true, verification: r.value }) : data<VerifyResult>({ ok: false, error: r.failure.message }, { status: r.failure.status });
}

function Verification({ v }: { v: EvidenceVerification }) {
  return (
    <Notice tone={v.ok ? "success" : "error"} title={v.ok ? "Verified" : "Does not verify"} testId="evidence-verification">
      <p data-testid="evidence-verification-summary" data-ok={v.ok ? "true" : "false"}>
        {verificationSummary(v)}
      </p>
      <dl className="detail-list">
        <div className="detail-row">
          <dt>Recorded SHA-256</dt>
          <dd className="mono break-all">{v.recorded_hash}</dd>
        </div>
        <div className="detail-row">
          <dt>Stored bytes hash to</dt>
          <dd className="mono break-all" data-testid="evidence-actual-hash">
            {v.actual_hash ?? "— (the bytes could not be read)"}
          </dd>
        </div>
        <div className="detail-row">
          <dt>Checked</dt>
          <dd>
            <UtcTime iso={v.verified_at} />
          </dd>
        </div>
      </dl>
      {v.problems.length ? (
        <ul className="bulk-errors" data-testid="evidence-problems">
          {v.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
    </Notice>
  );
}

export default function EvidenceObjectPage() {
  const { evidence: e } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const verifying = fetcher.state !== "idle";

  return (
    <div className="page" data-testid="page-evidence-object" data-evidence-id={e.evidence_id}>
      <p className="breadcrumb">
        <Link to="/evidence">Evidence</Link> <span aria-hidden="true">/</span> {shortId(e.evidence_id)}
      </p>
      <PageHeader
        title={`${e.kind} evidence`}
        description={
          <span className="inline-group">
            {e.signed ? <StatusBadge tone="ok">Signed</StatusBadge> : <StatusBadge tone="warn">Unsigned</StatusBadge>}
            <span className="mono">{e.content_type}</span>
            <span>{formatBytes(e.size)}</span>
          </span>
        }
        actions={
          <div className="inline-group header-actions">
            <fetcher.Form method="post">
              <input type="hidden" name="intent" value="verify" />
              <button type="submit" className="button button-primary" disabled={verifying} data-testid="verify-evidence" title="Re-hash the stored bytes and check the signature (recorded in the audit trail)">
                {verifying ? "Verifying…" : "Verify"}
              </button>
            </fetcher.Form>
            <a href={e.links.content} className="button" download data-testid="download-evidence">
              Download
            </a>
          </div>
        }
      />

      {result?.ok ? <Verification v={result.verification} /> : null}
      {result && !result.ok ? (
        <Notice tone="error" testId="evidence-verify-error">
          {result.error}
        </Notice>
      ) : null}

      <section className="panel" aria-labelledby="evidence-facts-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="evidence-facts-title">
              The object
            </h2>
            <p className="panel-subtitle">Immutable and content-addressed: it is stored under its SHA-256 and never rewritten. Verify re-reads it from the store.</p>
          </div>
        </header>
        <div className="detail-columns">
          <dl className="detail-group">
            <div className="detail-row">
              <dt>SHA-256</dt>
              <dd>
                <span className="inline-group">
                  <code className="mono break-all" data-testid="evidence-hash">
                    {e.hash}
                  </code>
                  <CopyButton value={e.hash} />
                </span>
              </dd>
            </div>
            <div className="detail-row">
              <dt>Size</dt>
              <dd data-testid="evidence-size">{e.size.toLocaleString("en-US")} bytes</dd>
            </div>
            <div className="detail-row">
              <dt>Content type</dt>
              <dd className="mono">{e.content_type}</dd>
            </div>
            <div className="detail-row">
              <dt>Kind</dt>
              <dd className="mono">{e.kind}</dd>
            </div>
            <div className="detail-row">
              <dt>Stored at</dt>
              <dd className="mono break-all">{e.storage_uri}</dd>
            </div>
            <div className="detail-row">
              <dt>Created</dt>
              <dd>
                <UtcTime iso={e.created_at} />
              </dd>
            </div>
          </dl>
          <dl className="detail-group">
            <div className="detail-row">
              <dt>Source</dt>
              <dd>{e.source_id ? <Link to={`/sources/${e.source_id}`} data-testid="evidence-source-link">{e.source_name ?? shortId(e.source_id)}</Link> : <span className="muted">—</span>}</dd>
            </div>
            <div className="detail-row">
              <dt>Run</dt>
              <dd>{e.run_id ? <RunLink runId={e.run_id} testId="evidence-run-link" /> : <span className="muted">—</span>}</dd>
            </div>
            <div className="detail-row">
              <dt>Job</dt>
              <dd>
                {e.job_id ? (
                  <Link to={e.run_id ? `/jobs?run_id=${e.run_id}` : "/jobs"} className="mono" data-testid="evidence-job-link">
                    {shortId(e.job_id)}
                  </Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Findings seen in it</dt>
              <dd data-testid="evidence-findings-linked">
                {e.source_id && e.findings_linked ? <Link to={`/findings?source_id=${e.source_id}`}>{e.findings_linked.toLocaleString("en-US")}</Link> : e.findings_linked.toLocaleString("en-US")}
              </dd>
            </div>
          </dl>
        </div>
      </section>

      <section className="panel" aria-labelledby="evidence-signature-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="evidence-signature-title">
              Signature
            </h2>
            <p className="panel-subtitle">Ed25519 over the ASCII of the lower-case hex SHA-256, by the control plane&rsquo;s evidence key. Anyone with the public key below can check it offline.</p>
          </div>
        </header>
        <dl className="detail-group">
          <div className="detail-row">
            <dt>Signing key</dt>
            <dd className="mono" data-testid="evidence-signing-key">
              {e.signing_key_id ?? "not signed"}
            </dd>
          </div>
          {e.signing_key ? (
            <>
              <div className="detail-row">
                <dt>Key fingerprint</dt>
                <dd className="mono break-all" data-testid="evidence-key-fingerprint">
                  {e.signing_key.fingerprint}
                </dd>
              </div>
              <div className="detail-row">
                <dt>Public key</dt>
                <dd>
                  <details>
                    <summary>PEM</summary>
                    <pre className="scope-block">{e.signing_key.public_key_pem}</pre>
                  </details>
                </dd>
              </div>
            </>
          ) : e.signing_key_id ? (
            <div className="detail-row">
              <dt>Key</dt>
              <dd className="error-text">This key is unknown to this installation: the signature cannot be checked.</dd>
            </div>
          ) : null}
          {e.signature ? (
            <div className="detail-row">
              <dt>Signature</dt>
              <dd>
                <code className="mono break-all">{e.signature}</code>
              </dd>
            </div>
          ) : null}
        </dl>
      </section>
    </div>
  );
}
