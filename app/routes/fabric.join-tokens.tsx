// Join tokens of a cluster: create one (TTL, max uses, optional binding to the expected machine; the secret is shown
// once, with the enroll command), list them and revoke them. All three are high-risk: each asks for a fresh passkey
// step-up, and the list itself is audited.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { attempt } from "../lib/auth.server";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { enrollCommand, TOKEN_STATE, TOKEN_TTLS, type JoinToken, type JoinTokenInput, type NewJoinToken } from "../lib/fabric";
import { useFabricAction } from "../lib/fabric-actions";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { AuthorityBadge } from "../components/fabric-badges";
import { ConfirmButton } from "../components/confirm-button";
import { CopyButton } from "../components/copy-button";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { SecretReveal } from "../components/secret-reveal";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Join tokens") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const gate = await platformOnly(request, async () => (await context.caller.fabric.clusters.list()).items);
  if (!gate.allowed) return { ...gate, cluster: null, tokens: { access: "denied" as const, items: [] as JoinToken[], next_cursor: null } };
  const wanted = new URL(request.url).searchParams.get("cluster");
  const cluster = gate.data.find((c) => c.cluster_id === wanted) ?? gate.data[0] ?? null;
  if (!cluster) return { ...gate, cluster: null, tokens: { access: "granted" as const, items: [] as JoinToken[], next_cursor: null } };
  // Listing tokens is high-risk: without a fresh step-up the page asks for one in the browser.
  const listed = await attempt(request, () => context.caller.fabric.joinTokens.list({ id: cluster.cluster_id, limit: 100 }));
  if (listed.ok) return { ...gate, cluster, tokens: { access: "granted" as const, items: listed.value.items, next_cursor: listed.value.next_cursor } };
  if (listed.failure.code === "STEP_UP_REQUIRED") return { ...gate, cluster, tokens: { access: "step_up" as const, items: [] as JoinToken[], next_cursor: null } };
  throw new Response(listed.failure.message, { status: listed.failure.status });
}

const DESCRIPTION =
  "A join token lets one host ask to join a cluster: it is id.secret with a 165-bit secret, stored only as a hash, limited in time and uses, and optionally bound to the machine you expect. Every redemption still waits for your approval (unless it is a bootstrap token). Creating, listing and revoking tokens are high-risk.";

function CreateToken({ clusterId, clusterSlug, onCreated }: { clusterId: string; clusterSlug: string; onCreated: (t: NewJoinToken) => void }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const formRef = useRef<HTMLFormElement>(null);
  const [scope, setScope] = useState<"join" | "bootstrap">("join");

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (k: string) => String(form.get(k) ?? "").trim();
    const input: JoinTokenInput = {
      id: clusterId,
      ttl_seconds: Number(text("ttl_seconds")),
      max_uses: Number(text("max_uses") || 1),
      scope,
      ...(text("description") ? { description: text("description") } : {}),
      ...(text("bind_hostname") ? { bind_hostname: text("bind_hostname") } : {}),
      ...(text("bind_machine_id") ? { bind_machine_id: text("bind_machine_id") } : {}),
      ...(text("bind_key_fingerprint") ? { bind_key_fingerprint: text("bind_key_fingerprint") } : {}),
    };
    const created = await action.run("create", () => client.fabric.joinTokens.create.mutate(input));
    if (created) {
      formRef.current?.reset();
      setScope("join");
      onCreated(created);
    }
  };

  return (
    <section className="panel" aria-labelledby="create-token-title" data-testid="create-join-token">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="create-token-title">
            Create a join token for <span className="mono">{clusterSlug}</span>
          </h2>
          <p className="panel-subtitle">You will be asked to confirm with your passkey. The secret is shown once; Cairn keeps only its hash.</p>
        </div>
      </header>
      <div className="panel-body">
        {action.error ? (
          <Notice tone="error" testId="join-token-error">
            {action.error}
          </Notice>
        ) : null}
        <form ref={formRef} className="form-grid" onSubmit={(e) => void submit(e)} method="post">
          <div className="field">
            <label className="field-label" htmlFor="token-ttl">
              Valid for
            </label>
            <select id="token-ttl" className="input" name="ttl_seconds" defaultValue="3600">
              {TOKEN_TTLS.map((t) => (
                <option key={t.seconds} value={t.seconds}>
                  {t.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="token-uses">
              Max uses
            </label>
            <input id="token-uses" className="input" name="max_uses" type="number" min={1} max={scope === "bootstrap" ? 10 : 1000} defaultValue={1} required />
            <p className="field-hint">How many hosts may redeem it.</p>
          </div>
          <div className="field field-span">
            <span className="field-label">Approval</span>
            <div className="checkbox">
              <input id="token-scope-join" type="radio" name="scope" value="join" checked={scope === "join"} onChange={() => setScope("join")} />
              <label className="checkbox-label" htmlFor="token-scope-join">
                Every redemption waits for a platform owner&rsquo;s approval (recommended)
              </label>
            </div>
            <div className="checkbox">
              <input id="token-scope-bootstrap" type="radio" name="scope" value="bootstrap" checked={scope === "bootstrap"} onChange={() => setScope("bootstrap")} />
              <label className="checkbox-label" htmlFor="token-scope-bootstrap">
                Bootstrap: approved on redemption, without review (at most 24 h and 10 uses; listed as a risky state while active)
              </label>
            </div>
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="token-description">
              Description <span className="muted">(optional)</span>
            </label>
            <input id="token-description" className="input" name="description" maxLength={500} autoComplete="off" placeholder="Branch office scanner" />
          </div>
          <fieldset className="field field-span fabric-fieldset">
            <legend className="field-label">Bind to the expected machine (optional)</legend>
            <p className="field-hint">A redemption from any other machine is refused. Leave empty for no binding.</p>
            <div className="form-grid">
              <div className="field">
                <label className="field-label" htmlFor="token-bind-hostname">
                  Hostname
                </label>
                <input id="token-bind-hostname" className="input mono" name="bind_hostname" maxLength={253} autoComplete="off" spellCheck={false} />
              </div>
              <div className="field">
                <label className="field-label" htmlFor="token-bind-machine">
                  Machine id
                </label>
                <input id="token-bind-machine" className="input mono" name="bind_machine_id" maxLength={128} autoComplete="off" spellCheck={false} placeholder="/etc/machine-id" />
              </div>
              <div className="field field-span">
                <label className="field-label" htmlFor="token-bind-key">
                  Key fingerprint
                </label>
                <input id="token-bind-key" className="input mono" name="bind_key_fingerprint" pattern="[0-9a-fA-F]{64}" autoComplete="off" spellCheck={false} placeholder="SHA-256 of the node's raw public key (64 hex)" />
              </div>
            </div>
          </fieldset>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={!hydrated || action.busy !== null} data-testid="create-join-token-submit">
              {action.busy ? "Creating…" : "Create join token"}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

function NewToken({ token, clusterSlug }: { token: NewJoinToken; clusterSlug: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [origin, setOrigin] = useState<string | null>(null);
  useEffect(() => {
    setOrigin(window.location.origin);
    ref.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [token]);
  const command = origin ? enrollCommand(origin, token.token, { cluster: clusterSlug }) : null;
  return (
    <div ref={ref} className="scroll-target">
      <SecretReveal title={`Join token ${token.token_id}`} secret={token.token} testId="new-join-token">
        Valid until <strong>{token.expires_at.slice(0, 16).replace("T", " ")} UTC</strong> for {token.max_uses === 1 ? "one host" : `${token.max_uses} hosts`}
        {token.scope === "bootstrap" ? ", approved without review" : "; each redemption waits for your approval on Join requests"}. Run this on the host:
        {command ? (
          <span className="fabric-command">
            <code data-testid="enroll-command">{command}</code>
            <CopyButton value={command} label="Copy command" />
          </span>
        ) : null}
        Once you leave this page the secret cannot be shown again; create another token instead.
      </SecretReveal>
    </div>
  );
}

function TokenRow({ t, busy, onRevoke }: { t: JoinToken; busy: boolean; onRevoke: (t: JoinToken) => void }) {
  const state = TOKEN_STATE[t.state];
  const binding = [t.binding.hostname && `host ${t.binding.hostname}`, t.binding.machine_id && `machine ${t.binding.machine_id}`, t.binding.key_fingerprint && `key ${t.binding.key_fingerprint.slice(0, 12)}…`].filter(Boolean);
  return (
    <tr data-testid="join-token-row" data-token-id={t.token_id} data-state={t.state}>
      <td>
        <span className="cell-stack">
          <span className="mono">{t.token_id}</span>
          {t.description ? <span className="cell-note">{t.description}</span> : null}
          <span className="cell-note">by {t.created_by.replace(/^user:/, "")}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <StatusBadge tone={state.tone} testId="join-token-state">
            {state.label}
          </StatusBadge>
          {t.scope === "bootstrap" ? <span className="badge badge-warn">bootstrap</span> : null}
        </span>
      </td>
      <td>
        {t.used_count} of {t.max_uses}
      </td>
      <td>{binding.length ? <span className="cell-note">{binding.join(" · ")}</span> : <span className="muted">any machine</span>}</td>
      <td>
        <UtcTime iso={t.expires_at} />
      </td>
      <td>
        <UtcTime iso={t.last_used_at} empty="Never" />
      </td>
      <td className="cell-actions">
        {t.state === "active" ? <ConfirmButton label="Revoke" prompt="Refuse later redemptions?" confirmLabel="Revoke" busy={busy} testId="revoke-join-token" onConfirm={() => onRevoke(t)} /> : null}
      </td>
    </tr>
  );
}

export default function JoinTokensPage() {
  const data = useLoaderData<typeof loader>();
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [created, setCreated] = useState<NewJoinToken | null>(null);

  if (!data.allowed) {
    return (
      <FabricPage title="Join tokens" testId="page-fabric-join-tokens" description={DESCRIPTION}>
        <FabricDenied what="Join tokens" message={data.message} />
      </FabricPage>
    );
  }
  const clusters = data.data;
  const cluster = data.cluster;
  if (!cluster) {
    return (
      <FabricPage title="Join tokens" testId="page-fabric-join-tokens" description={DESCRIPTION}>
        <EmptyState icon="fabric" title="No clusters yet">
          A join token belongs to a cluster. <Link to="/fabric/clusters">Create a cluster</Link> first.
        </EmptyState>
      </FabricPage>
    );
  }
  const tokens = data.tokens;
  return (
    <FabricPage title="Join tokens" testId="page-fabric-join-tokens" description={DESCRIPTION}>
      <Form method="get" className="form-row fabric-filter" data-testid="join-token-cluster">
        <div className="field">
          <label className="field-label" htmlFor="token-cluster">
            Cluster
          </label>
          <select id="token-cluster" className="input" name="cluster" defaultValue={cluster.cluster_id} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            {clusters.map((c) => (
              <option key={c.cluster_id} value={c.cluster_id}>
                {c.name} ({c.slug})
              </option>
            ))}
          </select>
        </div>
        <noscript>
          <button type="submit" className="button">
            Show
          </button>
        </noscript>
        <span className="fabric-filter-note">
          <AuthorityBadge state={cluster.authority_state} /> <Link to={`/fabric/clusters/${cluster.cluster_id}`}>{cluster.name}</Link>
        </span>
      </Form>
      {created && created.cluster_id === cluster.cluster_id ? <NewToken token={created} clusterSlug={cluster.slug} /> : null}
      {action.error ? (
        <Notice tone="error" testId="join-tokens-error">
          {action.error}
        </Notice>
      ) : null}
      <CreateToken clusterId={cluster.cluster_id} clusterSlug={cluster.slug} onCreated={setCreated} />
      <section className="panel" aria-labelledby="tokens-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="tokens-title">
              Tokens of {cluster.slug}
            </h2>
            <p className="panel-subtitle">Never their secrets. Revoking refuses later redemptions; requests already opened stay for your review.</p>
          </div>
        </header>
        {tokens.access === "step_up" ? (
          <div className="panel-body">
            <p className="layout-text">Listing join tokens is high-risk and audited: confirm with your passkey to see them.</p>
            <button
              type="button"
              className="button button-primary"
              disabled={!hydrated || action.busy !== null}
              data-testid="join-tokens-reveal"
              onClick={() => void action.run("reveal", () => client.fabric.joinTokens.list.query({ id: cluster.cluster_id, limit: 1 }))}
            >
              Confirm and show tokens
            </button>
          </div>
        ) : tokens.items.length === 0 ? (
          <p className="panel-empty" data-testid="join-tokens-empty">
            No join tokens for this cluster yet.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="join-tokens-table">
              <thead>
                <tr>
                  <th scope="col">Token id</th>
                  <th scope="col">State</th>
                  <th scope="col">Used</th>
                  <th scope="col">Bound to</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.items.map((t) => (
                  <TokenRow key={t.token_id} t={t} busy={!hydrated || action.busy !== null} onRevoke={(x) => void action.run(`revoke:${x.token_id}`, () => client.fabric.joinTokens.revoke.mutate({ id: x.token_id }))} />
                ))}
              </tbody>
            </table>
            {tokens.next_cursor ? <p className="panel-footnote">The 100 newest tokens are shown.</p> : null}
          </div>
        )}
      </section>
    </FabricPage>
  );
}
