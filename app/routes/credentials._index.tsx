// Credential refs of this tenant: references to secrets that only the broker resolves, at run time, for one job.
// Values never reach this page. Creating and deleting a ref are high-risk (a passkey step-up); testing is not.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { useRef, useState, type FormEvent } from "react";
import { attempt, load } from "../lib/auth.server";
import { clientFailure, currentMembership, useMe } from "../lib/identity";
import { AVAILABLE_PROVIDERS, CREDENTIAL_PROVIDERS, HEALTH, PROVIDER_LABEL, who, type CredentialRef } from "../lib/control-plane";
import { pageTitle, sectionById } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Credentials") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return { refs: (await load(request, () => context.caller.credentials.list({ limit: 200 }))).items };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const id = String(form.get("id") ?? "");
  if (form.get("intent") !== "test") return data({ ok: false as const, id, error: "Unknown action" }, { status: 400 });
  const r = await attempt(request, () => context.caller.credentials.test({ id }));
  if (!r.ok) return data({ ok: false as const, id, error: r.failure.message }, { status: r.failure.status });
  return { ok: true as const, id, valid: r.value.ok, keys: r.value.keys, detail: r.value.credential_ref.health_detail };
}

/** The variable-name or path fragment the way the broker computes it (upper case, - as _ for env). */
const envToken = (v: string) => v.toUpperCase().replace(/-/g, "_");

function Layout({ slug, tenantId }: { slug: string; tenantId: string }) {
  return (
    <section className="panel" aria-labelledby="credential-layout-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="credential-layout-title">
            Where the values live
          </h2>
          <p className="panel-subtitle">A ref only names a secret. An operator puts the values where the broker looks; Cairn reads them for one job at a time and never stores them.</p>
        </div>
      </header>
      <div className="detail-columns">
        <div className="detail-group">
          <h3 className="detail-group-title">env: environment variables</h3>
          <p className="layout-text">
            One variable per key in the environment of the processes that run jobs, named <code>CAIRN_TENANT_&lt;SLUG&gt;_&lt;REF&gt;_&lt;KEY&gt;</code>. For this tenant:
          </p>
          <pre className="scope-block">{`CAIRN_TENANT_${envToken(slug)}_<REF>_<KEY>\n\n# ref "github-ci", keys TOKEN and ORG:\nCAIRN_TENANT_${envToken(slug)}_GITHUB_CI_TOKEN=…\nCAIRN_TENANT_${envToken(slug)}_GITHUB_CI_ORG=…`}</pre>
        </div>
        <div className="detail-group">
          <h3 className="detail-group-title">file: a mounted secret directory</h3>
          <p className="layout-text">
            One file per key under the credentials directory (<code>CAIRN_CREDENTIALS_DIR</code>), the layout the Secrets Store CSI driver mounts on Kubernetes:
          </p>
          <pre className="scope-block">{`$CAIRN_CREDENTIALS_DIR/\n  ${tenantId}/\n    <ref>/\n      <KEY>    # the file's content is the value`}</pre>
        </div>
      </div>
      <p className="panel-footnote">
        The tenant part of every name and path comes from the job&rsquo;s tenant, never from the ref, so a ref may not contain a path separator, <code>..</code> or the word
        &ldquo;tenant&rdquo;. AWS Secrets Manager and Vault are reserved: not available in this build.
      </p>
    </section>
  );
}

function CreateRef({ slug, tenantId, onCreated }: { slug: string; tenantId: string; onCreated: (ref: CredentialRef) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const formRef = useRef<HTMLFormElement>(null);
  const [provider, setProvider] = useState("env");
  const [externalRef, setExternalRef] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const shownRef = externalRef.trim() || "<ref>";
  const location = provider === "env" ? `CAIRN_TENANT_${envToken(slug)}_${externalRef.trim() ? envToken(externalRef.trim()) : "<REF>"}_<KEY>` : `$CAIRN_CREDENTIALS_DIR/${tenantId}/${shownRef}/<KEY>`;

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const description = String(form.get("description") ?? "").trim();
    const input = {
      name: String(form.get("name") ?? "").trim(),
      provider: provider as (typeof CREDENTIAL_PROVIDERS)[number],
      external_ref: externalRef.trim(),
      ...(description ? { description } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      const created = await runWithStepUp(() => client.credentials.create.mutate(input));
      formRef.current?.reset();
      setExternalRef("");
      onCreated(created);
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="create-ref-title" data-testid="create-credential">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="create-ref-title">
            Add a credential ref
          </h2>
          <p className="panel-subtitle">A name for sources to use and where the broker finds its values. You will be asked to confirm with your passkey.</p>
        </div>
      </header>
      <div className="panel-body">
        {error ? (
          <Notice tone="error" testId="credential-error">
            {error}
          </Notice>
        ) : null}
        <form ref={formRef} className="form-grid" onSubmit={(e) => void submit(e)} method="post">
          <div className="field">
            <label className="field-label" htmlFor="ref-name">
              Name
            </label>
            <input id="ref-name" className="input" name="name" required maxLength={100} autoComplete="off" placeholder="GitHub CI token" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="ref-provider">
              Provider
            </label>
            <select id="ref-provider" className="input" name="provider" value={provider} onChange={(e) => setProvider(e.target.value)} data-testid="credential-provider">
              {CREDENTIAL_PROVIDERS.map((p) => (
                <option key={p} value={p} disabled={!AVAILABLE_PROVIDERS.has(p)}>
                  {p} · {PROVIDER_LABEL[p]}
                  {AVAILABLE_PROVIDERS.has(p) ? "" : " (not available in this build)"}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="ref-external">
              External ref
            </label>
            <input
              id="ref-external"
              className="input mono"
              name="external_ref"
              required
              maxLength={128}
              autoComplete="off"
              spellCheck={false}
              placeholder="github-ci"
              value={externalRef}
              onChange={(e) => setExternalRef(e.target.value)}
            />
            <p className="field-hint">Letters, digits, - and _{provider === "env" ? "" : " (and .)"}.</p>
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="ref-description">
              Description <span className="muted">(optional)</span>
            </label>
            <input id="ref-description" className="input" name="description" maxLength={1000} autoComplete="off" placeholder="Read-only token for the org's repositories" />
          </div>
          <div className="field field-span">
            <span className="field-label">The broker will look for</span>
            <code className="location-preview" data-testid="credential-location-preview">
              {location}
            </code>
          </div>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={!hydrated || busy} data-testid="create-credential-submit">
              {busy ? "Adding…" : "Add credential ref"}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

function RefRow({ r, onDeleted, onError }: { r: CredentialRef; onDeleted: (r: CredentialRef) => void; onError: (message: string) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const test = useFetcher<typeof action>();
  const [deleting, setDeleting] = useState(false);
  const health = HEALTH[r.health] ?? { tone: "neutral" as const, label: r.health };
  const result = test.state === "idle" && test.data?.id === r.credential_ref_id ? test.data : null;

  const remove = async () => {
    setDeleting(true);
    try {
      await runWithStepUp(() => client.credentials.remove.mutate({ id: r.credential_ref_id }));
      onDeleted(r);
    } catch (err) {
      if (!isStepUpCancelled(err)) onError(clientFailure(err).message);
    } finally {
      setDeleting(false);
    }
  };

  return (
    <tr data-testid="credential-row" data-ref-id={r.credential_ref_id}>
      <td className="cell-name">
        <span className="cell-stack">
          <span className="cell-title" title={`Added by ${who(r.created_by)}`}>
            {r.name}
          </span>
          {r.description ? (
            <span className="cell-note cell-ellipsis" title={r.description}>
              {r.description}
            </span>
          ) : null}
          <span className="cell-note" data-testid="credential-provider-cell">
            <span className="mono">{r.provider}</span>
            {AVAILABLE_PROVIDERS.has(r.provider) ? "" : " (not available in this build)"} · used by {r.used_by_sources} {r.used_by_sources === 1 ? "source" : "sources"}
          </span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <code>{r.external_ref}</code>
          <code className="cell-note credential-location" title="Where the broker looks (names only)">
            {r.location}
          </code>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <StatusBadge tone={health.tone} testId="credential-health">
            {health.label}
          </StatusBadge>
          {result && !result.ok ? (
            <span className="cell-note error-text" data-testid="credential-test-result">
              {result.error}
            </span>
          ) : result?.keys.length ? (
            <span className="cell-note" data-testid="credential-test-result">
              Keys found: {result.keys.join(", ")}
            </span>
          ) : r.health_detail ? (
            <span className="cell-note health-detail" title={r.health_detail}>
              {r.health_detail}
            </span>
          ) : null}
        </span>
      </td>
      <td>
        <UtcTime iso={r.last_validated_at} empty="Never" />
      </td>
      <td className="cell-actions">
        <span className="inline-group">
          <test.Form method="post">
            <input type="hidden" name="intent" value="test" />
            <input type="hidden" name="id" value={r.credential_ref_id} />
            <button type="submit" className="button button-small" disabled={test.state !== "idle"} data-testid="test-credential">
              {test.state !== "idle" ? "Testing…" : "Test"}
            </button>
          </test.Form>
          <ConfirmButton
            label="Delete"
            prompt={r.used_by_sources ? "In use: delete anyway?" : "Delete this ref?"}
            confirmLabel="Delete"
            busy={!hydrated || deleting}
            testId="delete-credential"
            onConfirm={() => void remove()}
          />
        </span>
      </td>
    </tr>
  );
}

export default function CredentialsPage() {
  const { refs } = useLoaderData<typeof loader>();
  const me = useMe();
  const membership = currentMembership(me);
  const revalidator = useRevalidator();
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const section = sectionById("credentials");
  const slug = membership?.slug ?? "tenant";
  const tenantId = membership?.tenant_id ?? "<tenant id>";

  return (
    <div className="page" data-testid="page-credentials">
      <PageHeader title="Credentials" description={section.description} />
      {notice ? (
        <Notice tone={notice.tone} testId="credentials-notice">
          {notice.text}
        </Notice>
      ) : null}
      <CreateRef
        slug={slug}
        tenantId={tenantId}
        onCreated={(r) => {
          setNotice({ tone: "success", text: `Added “${r.name}”. Put its values at ${r.location}, then test it.` });
          revalidator.revalidate();
        }}
      />
      <section className="panel" aria-label="Credential refs">
        <header className="panel-header">
          <div>
            <h2 className="panel-title">
              {refs.length} {refs.length === 1 ? "credential ref" : "credential refs"}
            </h2>
            <p className="panel-subtitle">Test checks that the values are present and well-formed and reports key names only, never values.</p>
          </div>
        </header>
        {refs.length ? (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="credentials-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Ref and where its values go</th>
                  <th scope="col">Health</th>
                  <th scope="col">Last validated</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {refs.map((r) => (
                  <RefRow
                    key={r.credential_ref_id}
                    r={r}
                    onDeleted={(gone) => {
                      setNotice({ tone: "success", text: `Deleted “${gone.name}”.` });
                      revalidator.revalidate();
                    }}
                    onError={(text) => setNotice({ tone: "error", text })}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="panel-body">
            <EmptyState icon="credentials" title="No credential refs yet">
              Sources that need a token or a key use a credential ref. Add one above; its values stay where an operator puts them.
            </EmptyState>
          </div>
        )}
      </section>
      <Layout slug={slug} tenantId={tenantId} />
    </div>
  );
}
