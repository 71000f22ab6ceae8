// Settings home: the current tenant and your role in it, its API request quotas with this minute's usage (admins
// edit them), how people sign in, and the way to members, API keys, passkeys and sessions.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import type { ReactNode } from "react";
import { attempt, load } from "../lib/auth.server";
import { currentMembership, ROLE_SUMMARY, roleLabel, useMe } from "../lib/identity";
import { pageTitle, sectionById } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { SettingsNav } from "../components/settings-nav";
import { StatusBadge } from "../components/status-badge";
import { Notice } from "../components/notice";
import { DevicesIcon, FingerprintIcon, KeyIcon, PeopleIcon } from "../components/icons";

export const meta: MetaFunction = () => [{ title: pageTitle("Settings") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const [tenant, methods] = await Promise.all([load(request, () => context.caller.tenant.current()), load(request, () => context.caller.auth.methods())]);
  return { tenant, methods };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const quota = { requests_per_minute: Number(form.get("requests_per_minute")), key_requests_per_minute: Number(form.get("key_requests_per_minute")) };
  const result = await attempt(request, () => context.caller.tenant.updateQuota(quota));
  if (!result.ok) return data({ ok: false as const, error: result.failure.message }, { status: result.failure.status });
  return { ok: true as const };
}

const integer = new Intl.NumberFormat("en-US");

function QuotaPanel() {
  const { tenant } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const isAdmin = tenant.role === "admin";
  const used = tenant.usage.tenant_requests_this_minute;
  const limit = tenant.quota.requests_per_minute;
  const share = Math.min(100, Math.round((used / limit) * 100));

  return (
    <section className="panel" aria-labelledby="quota-title" data-testid="quota-panel">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="quota-title">
            API request quotas
          </h2>
          <p className="panel-subtitle">Requests made with this tenant&rsquo;s API keys, counted per minute across every Cairn replica. Over the limit, callers get 429 with Retry-After.</p>
        </div>
      </header>
      <div className="panel-body">
        <div className="usage">
          <div className="usage-head">
            <span>Used this minute</span>
            <span className="usage-figure" data-testid="usage-this-minute">
              {integer.format(used)} of {integer.format(limit)}
            </span>
          </div>
          <div className="meter" role="meter" aria-label="Tenant requests this minute" aria-valuemin={0} aria-valuemax={limit} aria-valuenow={used}>
            <span className={share >= 90 ? "meter-fill meter-fill-danger" : share >= 70 ? "meter-fill meter-fill-warn" : "meter-fill"} style={{ width: `${Math.max(share, used > 0 ? 1 : 0)}%` }} />
          </div>
        </div>
        <fetcher.Form method="post" className="quota-form" data-testid="quota-form">
          <div className="field">
            <label className="field-label" htmlFor="quota-tenant">
              Per tenant, requests per minute
            </label>
            <input id="quota-tenant" className="input" type="number" name="requests_per_minute" min={10} max={1_000_000} step={1} required defaultValue={tenant.quota.requests_per_minute} readOnly={!isAdmin} />
            <p className="field-hint">All of the tenant&rsquo;s keys together.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="quota-key">
              Per API key, requests per minute
            </label>
            <input id="quota-key" className="input" type="number" name="key_requests_per_minute" min={10} max={1_000_000} step={1} required defaultValue={tenant.quota.key_requests_per_minute} readOnly={!isAdmin} />
            <p className="field-hint">Any single key, so one busy script cannot use up the tenant&rsquo;s share.</p>
          </div>
          <div className="form-actions">
            {isAdmin ? (
              <button type="submit" className="button button-primary" disabled={fetcher.state !== "idle"}>
                Save quotas
              </button>
            ) : (
              <span className="muted">Only admins change quotas.</span>
            )}
            {fetcher.state === "idle" && fetcher.data?.ok ? (
              <StatusBadge tone="ok" testId="quota-saved">
                Saved
              </StatusBadge>
            ) : null}
          </div>
        </fetcher.Form>
        {fetcher.data && !fetcher.data.ok ? <Notice tone="error">{fetcher.data.error}</Notice> : null}
      </div>
    </section>
  );
}

function ManageLink({ to, icon, title, children }: { to: string; icon: ReactNode; title: string; children: ReactNode }) {
  return (
    <Link to={to} className="link-card" prefetch="intent">
      <span className="link-card-icon" aria-hidden="true">
        {icon}
      </span>
      <span className="link-card-text">
        <span className="link-card-title">{title}</span>
        <span className="link-card-body">{children}</span>
      </span>
    </Link>
  );
}

export default function SettingsPage() {
  const { tenant, methods } = useLoaderData<typeof loader>();
  const me = useMe();
  const membership = currentMembership(me);
  const role = tenant.role as keyof typeof ROLE_SUMMARY;

  return (
    <div className="page" data-testid="page-settings">
      <PageHeader title="Settings" description={sectionById("settings").description} />
      <SettingsNav />

      <div className="card-grid">
        <section className="panel" aria-labelledby="tenant-title" data-testid="tenant-card">
          <header className="panel-header">
            <div>
              <h2 className="panel-title" id="tenant-title">
                Tenant
              </h2>
              <p className="panel-subtitle">Everything you see and change is scoped to this tenant.</p>
            </div>
          </header>
          <dl className="detail-list panel-body">
            <div className="detail-row">
              <dt>Name</dt>
              <dd>{membership?.tenant_id === tenant.tenant_id ? membership.name : tenant.slug}</dd>
            </div>
            <div className="detail-row">
              <dt>Slug</dt>
              <dd className="mono" data-testid="tenant-slug">
                {tenant.slug}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Your role</dt>
              <dd>
                <span className="cell-stack">
                  <span className="badge" data-testid="tenant-role">
                    {roleLabel(tenant.role)}
                  </span>
                  <span className="muted">{ROLE_SUMMARY[role] ?? ""}</span>
                </span>
              </dd>
            </div>
            <div className="detail-row">
              <dt>Tenant id</dt>
              <dd className="mono break-all">{tenant.tenant_id}</dd>
            </div>
          </dl>
        </section>

        <section className="panel" aria-labelledby="signin-title" data-testid="sign-in-methods">
          <header className="panel-header">
            <div>
              <h2 className="panel-title" id="signin-title">
                Sign-in methods
              </h2>
              <p className="panel-subtitle">How people sign in to this installation.</p>
            </div>
          </header>
          <dl className="detail-list panel-body">
            <div className="detail-row">
              <dt>Password</dt>
              <dd>{methods.password ? <StatusBadge tone="ok">On</StatusBadge> : <StatusBadge tone="neutral">Off</StatusBadge>}</dd>
            </div>
            <div className="detail-row">
              <dt>Passkeys</dt>
              <dd>
                {methods.passkey ? <StatusBadge tone="ok">On</StatusBadge> : <StatusBadge tone="neutral">Off</StatusBadge>}
                <span className="stat-note"> Also confirm high-risk actions.</span>
              </dd>
            </div>
            <div className="detail-row">
              <dt>Single sign-on</dt>
              <dd>
                {methods.oidc.enabled ? (
                  <StatusBadge tone="ok">{`On · ${methods.oidc.label}`}</StatusBadge>
                ) : (
                  <>
                    <StatusBadge tone="neutral">Not configured</StatusBadge>
                    <span className="stat-note"> Set the CAIRN_OIDC_* variables to enable it.</span>
                  </>
                )}
              </dd>
            </div>
          </dl>
        </section>
      </div>

      <QuotaPanel />

      <section aria-labelledby="manage-title">
        <h2 className="section-title" id="manage-title">
          Manage
        </h2>
        <div className="link-grid">
          <ManageLink to="/settings/members" icon={<PeopleIcon size={20} />} title="Members">
            Who belongs to this tenant and with which role.
          </ManageLink>
          <ManageLink to="/settings/api-keys" icon={<KeyIcon size={20} />} title="API keys">
            Keys for scripts and agents: create, rotate with a grace window, revoke.
          </ManageLink>
          <ManageLink to="/settings/passkeys" icon={<FingerprintIcon size={20} />} title="Passkeys">
            Your passkeys, for signing in and for confirming high-risk actions.
          </ManageLink>
          <ManageLink to="/settings/sessions" icon={<DevicesIcon size={20} />} title="Sessions">
            Where you are signed in, and signing out the others.
          </ManageLink>
        </div>
      </section>
    </div>
  );
}
