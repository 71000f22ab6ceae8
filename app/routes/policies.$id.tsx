// One policy: its rule entries (editable by admins; a step-up when the policy is bound in enforce or disabled mode),
// where it is bound, binding it somewhere else, and deleting it once it has no bindings.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useNavigate, useRevalidator } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import { attempt, load } from "../lib/auth.server";
import { clientFailure, currentMembership, useMe } from "../lib/identity";
import { SEVERITY, parseRulesText, rulesText, type PolicyDetail } from "../lib/findings";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { who } from "../lib/control-plane";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { BindForm, BindingsTable } from "../components/policy-bindings";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data ? `Policy ${data.policy.name}` : "Policy") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const [policy, sources] = await Promise.all([load(request, () => context.caller.policies.get({ id: params.id ?? "" })), attempt(request, () => context.caller.sources.list({ limit: 200 }))]);
  return { policy, sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [] };
}

function RulesEditor({ policy, onSaved }: { policy: PolicyDetail; onSaved: (message: string) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const parsed = parseRulesText(String(form.get("rules") ?? ""));
    if (!parsed.ok) {
      setError(parsed.message);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await runWithStepUp(() =>
        client.policies.update.mutate({ id: policy.policy_id, description: String(form.get("description") ?? ""), rules: parsed.rules.map((r) => ({ rule: r.rule, enabled: r.enabled, severity: r.severity })) }),
      );
      onSaved("Saved. The change applies from each bound source's next run, or at once through a rematerialize.");
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="panel-body" data-testid="policy-editor">
      {error ? (
        <Notice tone="error" testId="policy-edit-error">
          {error}
        </Notice>
      ) : null}
      <form className="form-grid" onSubmit={(e) => void submit(e)} method="post">
        <div className="field field-span">
          <label className="field-label" htmlFor="edit-description">
            Description
          </label>
          <input id="edit-description" className="input" name="description" maxLength={2000} defaultValue={policy.description} autoComplete="off" />
        </div>
        <div className="field field-span">
          <label className="field-label" htmlFor="edit-rules">
            Rules
          </label>
          <textarea id="edit-rules" className="input mono rules-input" name="rules" rows={Math.max(3, policy.rules.length + 1)} defaultValue={rulesText(policy.rules)} spellCheck={false} />
          <p className="field-hint">
            One entry per line: a rule id, <code>prefix.*</code> or <code>*</code>, then optionally a severity and <code>off</code>.
          </p>
        </div>
        <div className="form-actions field-span">
          <button type="submit" className="button button-primary" disabled={!hydrated || busy} data-testid="policy-save">
            {busy ? "Saving…" : "Save rules"}
          </button>
        </div>
      </form>
    </div>
  );
}

export default function PolicyPage() {
  const { policy, sources } = useLoaderData<typeof loader>();
  const isAdmin = currentMembership(useMe())?.role === "admin";
  const client = useTRPCClient();
  const navigate = useNavigate();
  const revalidator = useRevalidator();
  const hydrated = useHydrated();
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const changed = (text: string, tone: "success" | "error" = "success") => {
    setNotice({ tone, text });
    revalidator.revalidate();
  };
  const remove = async () => {
    try {
      await client.policies.remove.mutate({ id: policy.policy_id });
      navigate("/policies");
    } catch (err) {
      setNotice({ tone: "error", text: clientFailure(err).message });
    }
  };

  return (
    <div className="page" data-testid="page-policy" data-policy-id={policy.policy_id}>
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link>
      </p>
      <PageHeader
        title={policy.name}
        description={policy.description || `Created by ${who(policy.created_by)}`}
        actions={
          isAdmin ? (
            <ConfirmButton
              label="Delete policy"
              prompt={policy.binding_list.length ? "Remove its bindings first" : "Delete this policy?"}
              confirmLabel="Delete"
              busy={!hydrated || policy.binding_list.length > 0}
              testId="delete-policy"
              onConfirm={() => void remove()}
            />
          ) : null
        }
      />
      {notice ? (
        <Notice tone={notice.tone} testId="policy-notice">
          {notice.text}
        </Notice>
      ) : null}
      <section className="panel" aria-labelledby="rules-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="rules-title">
              Rules <span className="muted">· {policy.rules.length}</span>
            </h2>
            <p className="panel-subtitle">For each finding the most specific entry decides: the exact rule id, then the longest pattern, then *.</p>
          </div>
        </header>
        <div className="table-wrap">
          <table className="table table-dense" data-testid="policy-rules">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Enabled</th>
                <th scope="col">Severity</th>
              </tr>
            </thead>
            <tbody>
              {policy.rules.map((r) => (
                <tr key={r.rule}>
                  <td>
                    <code>{r.rule}</code>
                    {r.catalogued === false ? <span className="cell-note"> (not in the catalogue)</span> : null}
                  </td>
                  <td>{r.enabled ? "Yes" : <StatusBadge tone="neutral">Off</StatusBadge>}</td>
                  <td>{r.severity ? <StatusBadge tone={SEVERITY[r.severity].tone}>{SEVERITY[r.severity].label}</StatusBadge> : <span className="muted">as produced</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {isAdmin ? <RulesEditor policy={policy} onSaved={(t) => changed(t)} /> : null}
      </section>
      <section className="panel" aria-labelledby="policy-bindings-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="policy-bindings-title">
              Bound to <span className="muted">· {policy.binding_list.length}</span>
            </h2>
            <p className="panel-subtitle">Binding it again to the same target changes the mode.</p>
          </div>
        </header>
        {policy.binding_list.length ? <BindingsTable bindings={policy.binding_list} canChange={isAdmin} onChanged={changed} showPolicy={false} /> : <p className="panel-empty">Not bound anywhere: it has no effect yet.</p>}
        {isAdmin ? <BindForm policies={[]} sources={sources} fixedPolicyId={policy.policy_id} onDone={(t) => changed(t)} /> : null}
      </section>
    </div>
  );
}
