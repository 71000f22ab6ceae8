// Policies and bindings: the tenant's policies (rule entries with severity overrides), where they are bound (the whole
// tenant or one source) and in which mode, and the built-in rules catalogue. Admins create policies and bind them;
// binding in enforce or disabled mode (or removing such a binding) asks for a passkey step-up.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { useState } from "react";
import { attempt, load } from "../lib/auth.server";
import { currentMembership, useMe } from "../lib/identity";
import { SEVERITY, parseRulesText, type Policy, type Rule } from "../lib/findings";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { BindForm, BindingsTable } from "../components/policy-bindings";

export const meta: MetaFunction = () => [{ title: pageTitle("Policies") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const [policies, bindings, rules, sources] = await Promise.all([
    load(request, () => context.caller.policies.list({ limit: 200 })),
    load(request, () => context.caller.policies.bindings({ limit: 200 })),
    load(request, () => context.caller.policies.rules()),
    attempt(request, () => context.caller.sources.list({ limit: 200 })),
  ]);
  return {
    policies: policies.items,
    bindings: bindings.items,
    rules: rules.items,
    uncatalogued: rules.uncatalogued,
    sources: sources.ok ? sources.value.items.map((s) => ({ id: s.source_id, name: s.display_name })) : [],
  };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  if (form.get("intent") !== "create") return data({ ok: false as const, error: "Unknown action" }, { status: 400 });
  const parsed = parseRulesText(String(form.get("rules") ?? ""));
  if (!parsed.ok) return data({ ok: false as const, error: parsed.message }, { status: 400 });
  const description = String(form.get("description") ?? "").trim();
  const r = await attempt(request, () =>
    context.caller.policies.create({ name: String(form.get("name") ?? ""), ...(description ? { description } : {}), rules: parsed.rules.map((x) => ({ rule: x.rule, enabled: x.enabled, severity: x.severity })) }),
  );
  if (!r.ok) return data({ ok: false as const, error: r.failure.message }, { status: r.failure.status });
  throw redirect(`/policies/${r.value.policy_id}`);
}

function CreatePolicy() {
  const fetcher = useFetcher<typeof action>();
  return (
    <section className="panel" aria-labelledby="create-policy-title" data-testid="create-policy">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="create-policy-title">
            New policy
          </h2>
          <p className="panel-subtitle">
            One rule entry per line: a rule id, a pattern such as <code>mcp.*</code> or <code>*</code>, then optionally a severity override and <code>off</code> to switch the rule off.
          </p>
        </div>
      </header>
      <div className="panel-body">
        {fetcher.state === "idle" && fetcher.data && !fetcher.data.ok ? (
          <Notice tone="error" testId="policy-error">
            {fetcher.data.error}
          </Notice>
        ) : null}
        <fetcher.Form method="post" className="form-grid">
          <input type="hidden" name="intent" value="create" />
          <div className="field">
            <label className="field-label" htmlFor="policy-name">
              Name
            </label>
            <input id="policy-name" className="input" name="name" required maxLength={100} autoComplete="off" placeholder="MCP hygiene" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="policy-description">
              Description <span className="muted">(optional)</span>
            </label>
            <input id="policy-description" className="input" name="description" maxLength={2000} autoComplete="off" placeholder="What this policy is for" />
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="policy-rules">
              Rules
            </label>
            <textarea id="policy-rules" className="input mono rules-input" name="rules" rows={4} required spellCheck={false} placeholder={"mcp.*\nmcp.inline_secret critical\nmcp.shell_wrapped_command off"} />
          </div>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={fetcher.state !== "idle"} data-testid="create-policy-submit">
              {fetcher.state !== "idle" ? "Creating…" : "Create policy"}
            </button>
          </div>
        </fetcher.Form>
      </div>
    </section>
  );
}

function PoliciesTable({ policies }: { policies: Policy[] }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid="policies-table">
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col">Rules</th>
            <th scope="col">Bindings</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {policies.map((p) => (
            <tr key={p.policy_id} data-testid="policy-row">
              <td className="cell-name">
                <span className="cell-stack">
                  <Link to={`/policies/${p.policy_id}`} className="cell-title">
                    {p.name}
                  </Link>
                  {p.description ? <span className="cell-note cell-ellipsis">{p.description}</span> : null}
                </span>
              </td>
              <td>
                <span className="cell-stack">
                  {p.rules.slice(0, 4).map((r) => (
                    <span key={r.rule} className="cell-note">
                      <code>{r.rule}</code>
                      {r.severity ? ` → ${r.severity}` : ""}
                      {r.enabled ? "" : " (off)"}
                    </span>
                  ))}
                  {p.rules.length > 4 ? <span className="cell-note">and {p.rules.length - 4} more</span> : null}
                </span>
              </td>
              <td>{p.bindings}</td>
              <td>
                <UtcTime iso={p.updated_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Catalogue({ rules, uncatalogued }: { rules: Rule[]; uncatalogued: { rule: string; findings: number }[] }) {
  return (
    <section className="panel" aria-labelledby="catalogue-title" data-testid="rules-catalogue">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="catalogue-title">
            Rules catalogue <span className="muted">· {rules.length}</span>
          </h2>
          <p className="panel-subtitle">The built-in rules and their default severities. Without a binding every rule records its findings as its producer rates them.</p>
        </div>
      </header>
      <div>
        {rules.map((r) => (
          <div key={r.id} className="catalogue-rule" data-testid="catalogue-rule">
            <span className="inline-group">
              <code>{r.id}</code>
              <StatusBadge tone={SEVERITY[r.severity].tone}>{SEVERITY[r.severity].label}</StatusBadge>
              <span className="muted">{r.producer}</span>
              <Link to={`/findings?rule=${encodeURIComponent(r.id)}`}>findings</Link>
            </span>
            <p>
              <strong>{r.title}.</strong> {r.description}
            </p>
          </div>
        ))}
        {uncatalogued.length ? (
          <div className="catalogue-rule">
            <span className="muted">Rules from producers outside the catalogue: </span>
            {uncatalogued.map((u, i) => (
              <span key={u.rule}>
                {i ? ", " : ""}
                <Link to={`/findings?rule=${encodeURIComponent(u.rule)}`}>
                  <code>{u.rule}</code>
                </Link>{" "}
                ({u.findings})
              </span>
            ))}
          </div>
        ) : null}
      </div>
    </section>
  );
}

export default function PoliciesPage() {
  const { policies, bindings, rules, uncatalogued, sources } = useLoaderData<typeof loader>();
  const isAdmin = currentMembership(useMe())?.role === "admin";
  const revalidator = useRevalidator();
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const section = sectionById("policies");
  const changed = (text: string, tone: "success" | "error" = "success") => {
    setNotice({ tone, text });
    revalidator.revalidate();
  };

  return (
    <div className="page" data-testid="page-policies">
      <PageHeader title="Policies" description={section.description} />
      {notice ? (
        <Notice tone={notice.tone} testId="policies-notice">
          {notice.text}
        </Notice>
      ) : null}
      <section className="panel" aria-labelledby="policies-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="policies-title">
              {policies.length} {policies.length === 1 ? "policy" : "policies"}
            </h2>
            <p className="panel-subtitle">A policy does nothing until it is bound. Changes apply from each source&rsquo;s next run, or at once through a deploy-gate rematerialize.</p>
          </div>
        </header>
        {policies.length ? (
          <PoliciesTable policies={policies} />
        ) : (
          <div className="panel-body">
            <EmptyState icon="policies" title={section.emptyTitle}>
              {section.emptyBody}
            </EmptyState>
          </div>
        )}
      </section>
      {isAdmin ? <CreatePolicy /> : null}
      <section className="panel" aria-labelledby="bindings-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="bindings-title">
              Bindings <span className="muted">· {bindings.length}</span>
            </h2>
            <p className="panel-subtitle">
              A source binding overrides the tenant&rsquo;s for the rules it covers; at one level the strictest mode wins (enforce, then audit, then disabled).
            </p>
          </div>
        </header>
        {bindings.length ? <BindingsTable bindings={bindings} canChange={isAdmin} onChanged={changed} /> : <p className="panel-empty">No policy is bound yet.</p>}
        {isAdmin && policies.length ? <BindForm policies={policies.map((p) => ({ id: p.policy_id, name: p.name }))} sources={sources} onDone={(t) => changed(t)} /> : null}
      </section>
      <Catalogue rules={rules} uncatalogued={uncatalogued} />
    </div>
  );
}
