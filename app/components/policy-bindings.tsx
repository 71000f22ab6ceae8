// Policy bindings: the form that binds a policy to the tenant or a source (step-up for enforce and disabled), and
// the table of bindings with remove (step-up when the binding is in enforce or disabled mode).
import { Link } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import { clientFailure } from "../lib/identity";
import { BINDING_MODES, MODE, type Binding, type BindingMode } from "../lib/findings";
import { who } from "../lib/control-plane";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { Notice } from "./notice";
import { StatusBadge } from "./status-badge";
import { ConfirmButton } from "./confirm-button";
import { UtcTime } from "./utc-time";

export function BindForm({ policies, sources, fixedPolicyId, onDone }: { policies: { id: string; name: string }[]; sources: { id: string; name: string }[]; fixedPolicyId?: string; onDone: (message: string) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<BindingMode>("audit");

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const target = String(form.get("target") ?? "tenant");
    const input = {
      policy_id: fixedPolicyId ?? String(form.get("policy_id") ?? ""),
      target_type: target === "tenant" ? ("tenant" as const) : ("source" as const),
      ...(target === "tenant" ? {} : { target_id: target }),
      mode,
    };
    setBusy(true);
    setError(null);
    try {
      const b = await runWithStepUp(() => client.policies.bind.mutate(input));
      onDone(`${b.created ? "Bound" : "Changed"} “${b.policy_name}” on ${b.target_name ?? "the source"} in ${b.mode} mode. It applies from the next run (or a rematerialize).`);
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel-body" data-testid="bind-policy">
      {error ? (
        <Notice tone="error" testId="bind-error">
          {error}
        </Notice>
      ) : null}
      <form className="form-grid" onSubmit={(e) => void submit(e)} method="post">
        {fixedPolicyId ? null : (
          <div className="field">
            <label className="field-label" htmlFor="bind-policy">
              Policy
            </label>
            <select id="bind-policy" className="input" name="policy_id" required>
              {policies.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label className="field-label" htmlFor="bind-target">
            Applies to
          </label>
          <select id="bind-target" className="input" name="target">
            <option value="tenant">The whole tenant</option>
            {sources.map((s) => (
              <option key={s.id} value={s.id}>
                Source: {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="bind-mode">
            Mode
          </label>
          <select id="bind-mode" className="input" name="mode" value={mode} onChange={(e) => setMode(e.target.value as BindingMode)}>
            {BINDING_MODES.map((m) => (
              <option key={m} value={m}>
                {MODE[m].label}
              </option>
            ))}
          </select>
          <p className="field-hint">
            {MODE[mode].title}
            {mode === "audit" ? "." : ". You will be asked to confirm with your passkey."}
          </p>
        </div>
        <div className="form-actions field-span">
          <button type="submit" className="button button-primary" disabled={!hydrated || busy || (!fixedPolicyId && !policies.length)} data-testid="bind-submit">
            {busy ? "Binding…" : "Bind"}
          </button>
        </div>
      </form>
    </div>
  );
}

export function BindingsTable({ bindings, canChange, onChanged, showPolicy = true }: { bindings: Binding[]; canChange: boolean; onChanged: (message: string, tone?: "success" | "error") => void; showPolicy?: boolean }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const [busy, setBusy] = useState<string | null>(null);
  const remove = async (b: Binding) => {
    setBusy(b.binding_id);
    try {
      await runWithStepUp(() => client.policies.unbind.mutate({ id: b.binding_id }));
      onChanged(`Removed the ${b.mode} binding of “${b.policy_name}” on ${b.target_name ?? "the source"}.`);
    } catch (err) {
      if (!isStepUpCancelled(err)) onChanged(clientFailure(err).message, "error");
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid="bindings-table">
        <thead>
          <tr>
            {showPolicy ? <th scope="col">Policy</th> : null}
            <th scope="col">Applies to</th>
            <th scope="col">Mode</th>
            <th scope="col">Bound by</th>
            {canChange ? (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {bindings.map((b) => (
            <tr key={b.binding_id} data-testid="binding-row" data-mode={b.mode}>
              {showPolicy ? (
                <td className="cell-name">
                  <Link to={`/policies/${b.policy_id}`} className="cell-title">
                    {b.policy_name}
                  </Link>
                </td>
              ) : null}
              <td>{b.target_type === "tenant" ? "The whole tenant" : <Link to={`/sources/${b.target_id}`}>{b.target_name ?? b.target_id}</Link>}</td>
              <td>
                <StatusBadge tone={MODE[b.mode].tone} title={MODE[b.mode].title} testId="binding-mode">
                  {MODE[b.mode].label}
                </StatusBadge>
              </td>
              <td>
                <span className="cell-stack">
                  <span>{who(b.created_by)}</span>
                  <span className="cell-note">
                    <UtcTime iso={b.updated_at} />
                  </span>
                </span>
              </td>
              {canChange ? (
                <td className="cell-actions">
                  <ConfirmButton label="Remove" prompt="Remove this binding?" confirmLabel="Remove" busy={!hydrated || busy === b.binding_id} testId="unbind" onConfirm={() => void remove(b)} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
