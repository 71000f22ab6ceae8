// API keys of the current tenant, for scripts and agents. Creating, rotating and revoking are high-risk: they go
// through the browser client inside a passkey step-up. A new key's secret is shown once, here, and never again.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import { load } from "../lib/auth.server";
import { clientFailure, ROLE_SUMMARY, roleLabel, TENANT_ROLES } from "../lib/identity";
import { formatUtc } from "../lib/format";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { PageHeader } from "../components/page-header";
import { SettingsNav } from "../components/settings-nav";
import { StatusBadge, type StatusTone } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { Notice } from "../components/notice";
import { SecretReveal } from "../components/secret-reveal";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("API keys") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return { keys: (await load(request, () => context.caller.apiKeys.list())).items };
}

type Outputs = inferRouterOutputs<AppRouter>["apiKeys"];
type ApiKey = Outputs["list"]["items"][number];
type Role = (typeof TENANT_ROLES)[number];

/** What a change produced: a secret to show once (kept on screen until the next one), or a revocation. */
type Outcome =
  | { kind: "created"; key: Outputs["create"] }
  | { kind: "rotated"; key: Outputs["rotate"]["successor"]; previous: ApiKey }
  | { kind: "revoked"; key: ApiKey };
type Secret = Exclude<Outcome, { kind: "revoked" }>;

const STATUS: Record<ApiKey["status"], { tone: StatusTone; label: string; title: string }> = {
  active: { tone: "ok", label: "Active", title: "Accepted" },
  rotating: { tone: "warn", label: "Rotating", title: "Replaced by a successor; still accepted until its grace period ends" },
  revoked: { tone: "danger", label: "Revoked", title: "Refused" },
  expired: { tone: "neutral", label: "Expired", title: "Refused: past its expiry" },
};

const who = (actor: string) => actor.replace(/^user:/, "");

function useKeyActions(onOutcome: (o: Outcome) => void) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const revalidator = useRevalidator();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (label: string, fn: () => Promise<Outcome>) => {
    setBusy(label);
    setError(null);
    try {
      onOutcome(await runWithStepUp(fn));
      revalidator.revalidate();
      return true;
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
      return false;
    } finally {
      setBusy(null);
    }
  };

  return {
    busy,
    error,
    create: (input: { name: string; role: Role; high_risk: boolean; expires_in_days?: number }) =>
      run("create", async () => ({ kind: "created", key: await client.apiKeys.create.mutate(input) })),
    rotate: (key: ApiKey) =>
      run(`rotate:${key.id}`, async () => {
        const r = await client.apiKeys.rotate.mutate({ id: key.id });
        return { kind: "rotated", key: r.successor, previous: r.previous };
      }),
    revoke: (key: ApiKey) => run(`revoke:${key.id}`, async () => ({ kind: "revoked", key: await client.apiKeys.revoke.mutate({ id: key.id }) })),
  };
}

function CreateKeyForm({ busy, onCreate }: { busy: boolean; onCreate: (input: { name: string; role: Role; high_risk: boolean; expires_in_days?: number }) => Promise<boolean> }) {
  const hydrated = useHydrated();
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const days = String(form.get("expires_in_days") ?? "").trim();
    const ok = await onCreate({
      name: String(form.get("name") ?? "").trim(),
      role: String(form.get("role")) as Role,
      high_risk: form.get("high_risk") === "on",
      ...(days ? { expires_in_days: Number(days) } : {}),
    });
    if (ok) formRef.current?.reset();
  };

  return (
    <section className="panel" aria-labelledby="create-key-title" data-testid="create-key">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="create-key-title">
            Create an API key
          </h2>
          <p className="panel-subtitle">A key acts in this tenant with the role you give it. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>
        </div>
      </header>
      <div className="panel-body">
        <form ref={formRef} className="form-grid" onSubmit={submit} method="post">
          <div className="field">
            <label className="field-label" htmlFor="key-name">
              Name
            </label>
            <input id="key-name" className="input" name="name" required maxLength={100} placeholder="ci-pipeline" autoComplete="off" />
            <p className="field-hint">What uses it, so you know what breaks if you revoke it.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="key-role">
              Role
            </label>
            <select id="key-role" className="input" name="role" defaultValue="viewer">
              {TENANT_ROLES.map((role) => (
                <option key={role} value={role}>
                  {roleLabel(role)}
                </option>
              ))}
            </select>
            <p className="field-hint">Give it the least it needs.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="key-expiry">
              Expires after (days)
            </label>
            <input id="key-expiry" className="input" type="number" name="expires_in_days" min={1} max={3650} step={1} placeholder="Never" />
            <p className="field-hint">Leave empty for a key that does not expire.</p>
          </div>
          <div className="field field-span">
            <div className="checkbox">
              <input id="key-high-risk" type="checkbox" name="high_risk" aria-describedby="key-high-risk-hint" />
              <span>
                <label className="checkbox-label" htmlFor="key-high-risk">
                  Allow high-risk actions
                </label>
                <span className="field-hint" id="key-high-risk-hint">
                  Without it the key is refused where a person would need a passkey step-up (role changes, key management). Each high-risk use is audited.
                </span>
              </span>
            </div>
          </div>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={!hydrated || busy}>
              {busy ? "Creating…" : "Create key"}
            </button>
            <span className="field-hint">You will be asked to confirm with your passkey.</span>
          </div>
        </form>
      </div>
    </section>
  );
}

function SecretBox({ outcome }: { outcome: Secret }) {
  const ref = useRef<HTMLDivElement>(null);

  // The secret appears at the top of the page; bring it into view when the action was down in the table.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [outcome]);

  return (
    <div ref={ref} className="scroll-target">
      <SecretContent outcome={outcome} />
    </div>
  );
}

function SecretContent({ outcome }: { outcome: Secret }) {
  if (outcome.kind === "created") {
    return (
      <SecretReveal title={`New API key “${outcome.key.name}”`} secret={outcome.key.api_key} testId="new-api-key">
        Copy it now and store it where its user can read it, such as your CI&rsquo;s secret store. Cairn keeps only a hash: once you leave this page the key
        cannot be shown again, only rotated or revoked.
      </SecretReveal>
    );
  }
  return (
    <SecretReveal title={`Successor of “${outcome.key.name}”`} secret={outcome.key.api_key} testId="new-api-key">
      The old key <code>{outcome.previous.prefix}…</code> keeps working until{" "}
      <strong data-testid="grace-until">{outcome.previous.grace_until ? formatUtc(outcome.previous.grace_until) : "its grace period ends"}</strong>, so clients
      can switch without downtime. Put this key in their place before then, or revoke the old one now. This secret is shown once.
    </SecretReveal>
  );
}

export default function ApiKeysPage() {
  const { keys } = useLoaderData<typeof loader>();
  const [secret, setSecret] = useState<Secret | null>(null);
  const [revoked, setRevoked] = useState<ApiKey | null>(null);
  const actions = useKeyActions((outcome) => {
    if (outcome.kind === "revoked") {
      setRevoked(outcome.key);
    } else {
      setSecret(outcome);
      setRevoked(null);
    }
  });
  const hydrated = useHydrated();
  const live = keys.filter((k) => k.status === "active" || k.status === "rotating").length;

  return (
    <div className="page" data-testid="page-api-keys">
      <PageHeader
        title="API keys"
        description="Keys let scripts, CI and agents call Cairn's REST and tRPC APIs as this tenant. Creating, rotating and revoking a key are high-risk: each asks for a passkey confirmation and is audited."
      />
      <SettingsNav />
      {secret ? <SecretBox outcome={secret} /> : null}
      {revoked ? (
        <Notice tone="success" testId="key-revoked">
          Revoked <code>{revoked.prefix}…</code> ({revoked.name}). Requests with it are refused from now on.
        </Notice>
      ) : null}
      {actions.error ? (
        <Notice tone="error" testId="api-key-error">
          {actions.error}
        </Notice>
      ) : null}
      <CreateKeyForm busy={actions.busy === "create"} onCreate={actions.create} />

      <section className="panel">
        <header className="panel-header">
          <div>
            <h2 className="panel-title">
              {keys.length} {keys.length === 1 ? "key" : "keys"}
              <span className="muted"> · {live} accepted</span>
            </h2>
            <p className="panel-subtitle">
              Rotating issues a successor and keeps the old key working for a grace period; revoking refuses a key at once.
            </p>
          </div>
        </header>
        {keys.length === 0 ? (
          <p className="panel-empty">No API keys yet. Create one above for your first script or agent.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="api-keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => {
                  const status = STATUS[k.status];
                  return (
                    <tr key={k.id} data-testid="api-key-row" data-key-id={k.id} data-status={k.status}>
                      <td className="cell-name">
                        <span className="cell-stack">
                          <span className="cell-title">{k.name}</span>
                          <code className="cell-note">{k.prefix}…</code>
                          <span className="cell-note cell-ellipsis" title={`Created by ${k.created_by}`}>
                            by {who(k.created_by)}
                          </span>
                        </span>
                      </td>
                      <td>
                        <span className="cell-stack">
                          <span title={ROLE_SUMMARY[k.role as Role]}>{roleLabel(k.role)}</span>
                          {k.high_risk ? (
                            <span className="badge badge-warn" title="May perform high-risk actions without a step-up; each use is audited">
                              High-risk
                            </span>
                          ) : null}
                        </span>
                      </td>
                      <td>
                        <span className="cell-stack">
                          <StatusBadge tone={status.tone} title={status.title}>
                            {status.label}
                          </StatusBadge>
                          {k.status === "rotating" && k.grace_until ? (
                            <span className="cell-stack" data-testid="key-grace-until">
                              <span className="cell-note">Grace until</span>
                              <UtcTime iso={k.grace_until} />
                            </span>
                          ) : null}
                          {k.status === "revoked" && k.revoked_at ? (
                            <span className="cell-stack">
                              <span className="cell-note">Since</span>
                              <UtcTime iso={k.revoked_at} />
                            </span>
                          ) : null}
                        </span>
                      </td>
                      <td>
                        <UtcTime iso={k.created_at} />
                      </td>
                      <td>
                        <UtcTime iso={k.last_used_at} empty="Never" />
                      </td>
                      <td>
                        <UtcTime iso={k.expires_at} empty="Never" />
                      </td>
                      <td className="cell-actions">
                        {k.status === "active" || k.status === "rotating" ? (
                          <span className="inline-group">
                            {k.status === "active" ? (
                              <ConfirmButton
                                tone="neutral"
                                label="Rotate"
                                prompt="Issue a successor?"
                                confirmLabel="Rotate"
                                busy={!hydrated || actions.busy !== null}
                                testId="rotate-key"
                                onConfirm={() => void actions.rotate(k)}
                              />
                            ) : null}
                            <ConfirmButton
                              label="Revoke"
                              prompt="Refuse this key now?"
                              confirmLabel="Revoke"
                              busy={!hydrated || actions.busy !== null}
                              testId="revoke-key"
                              onConfirm={() => void actions.revoke(k)}
                            />
                          </span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
