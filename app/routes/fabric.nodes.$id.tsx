// One enrolled node: identity and certificate, memberships, health and heartbeats, capabilities (claimed) apart from
// assigned roles (granted), workloads desired vs reported, running jobs, how it enrolled, and its audit timeline.
// Revoking, assigning or removing roles and pausing workloads are high-risk (passkey step-up).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { certificateTiming, factText, identityTone, missingCapability, shortHex, who, workloadTone, type NodeAuditItem, type NodeDetail, type RoleCatalogEntry } from "../lib/fabric";
import { useFabricAction, useRevalidateEvery } from "../lib/fabric-actions";
import { formatDuration, formatUtc } from "../lib/format";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { HealthBadge } from "../components/fabric-badges";
import { ReasonAction } from "../components/fabric-reason-action";
import { ConfirmButton } from "../components/confirm-button";
import { Notice } from "../components/notice";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: pageTitle(data?.allowed ? `Node ${data.data.node.name}` : "Node") }];

export async function loader({ context, request, params }: LoaderFunctionArgs) {
  const id = params.id ?? "";
  const auditCursor = new URL(request.url).searchParams.get("audit_cursor") ?? undefined;
  return platformOnly(request, async () => {
    const node = await context.caller.fabric.nodes.get({ id });
    const [audit, catalog, tenants, groups] = await Promise.all([
      context.caller.fabric.nodes.audit({ id, cursor: auditCursor, limit: 30 }),
      context.caller.fabric.roles.catalog(),
      context.caller.platform.tenants(),
      node.cluster ? context.caller.fabric.clusters.groups({ id: node.cluster.cluster_id }) : Promise.resolve({ items: [] }),
    ]);
    return { node, audit: audit.items, auditNext: audit.next_cursor, auditPaged: Boolean(auditCursor), catalog: catalog.items, tenants: tenants.items, groups: groups.items, now: Date.now() };
  });
}

type Data = Extract<Awaited<ReturnType<typeof loader>>, { allowed: true }>["data"];

function Facts({ node }: { node: NodeDetail }) {
  return (
    <section className="panel" aria-label="Health">
      <dl className="stat-row fabric-stats-5" data-testid="node-facts">
        <div className="stat">
          <dt className="stat-label">Health</dt>
          <dd className="stat-value stat-value-small">
            <HealthBadge health={node.health} />
            <span className="stat-note">agent reports {node.reported_status}</span>
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Last heartbeat</dt>
          <dd className="stat-value stat-value-small" data-testid="node-last-heartbeat">
            {node.last_heartbeat_at ? (
              <>
                {formatDuration(node.heartbeat_age_seconds ?? 0)} ago
                <span className="stat-note">{formatUtc(node.last_heartbeat_at)}</span>
              </>
            ) : (
              <>
                never<span className="stat-note">start cairn agent run on the host</span>
              </>
            )}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Version</dt>
          <dd className="stat-value stat-value-small mono" data-testid="node-version">
            {node.version || "—"}
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Host</dt>
          <dd className="stat-value stat-value-small mono">
            {node.hostname}
            <span className="stat-note">last seen from {node.last_seen_ip ?? "—"}</span>
          </dd>
        </div>
        <div className="stat">
          <dt className="stat-label">Running jobs</dt>
          <dd className="stat-value stat-value-small" data-testid="node-running-jobs">
            {node.running_jobs.length}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function Identity({ node, now }: { node: NodeDetail; now: number }) {
  const id = node.identity;
  const timing = id ? certificateTiming({ not_before: id.certificate_not_before, not_after: id.certificate_not_after }, now) : null;
  return (
    <section className="panel" aria-labelledby="identity-title" data-testid="node-identity">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="identity-title">
            Identity &amp; certificate
          </h2>
          <p className="panel-subtitle">
            The node&rsquo;s Ed25519 key was generated on the node and never left it; its cluster&rsquo;s CA certified the public half. The agent rotates key and certificate by itself once a
            third of the lifetime is left.
          </p>
        </div>
        {id ? <StatusBadge tone={identityTone(id.status)}>{id.status}</StatusBadge> : null}
      </header>
      {id ? (
        <div className="detail-columns">
          <dl className="detail-group">
            <div className="detail-row">
              <dt>Identity</dt>
              <dd className="mono break-all">{id.identity_id}</dd>
            </div>
            <div className="detail-row">
              <dt>Key fingerprint</dt>
              <dd className="mono break-all" data-testid="identity-key-fingerprint">
                {id.key_fingerprint}
              </dd>
            </div>
            <div className="detail-row">
              <dt>Certificate serial</dt>
              <dd className="mono break-all" data-testid="identity-serial">
                {id.certificate_serial}
              </dd>
            </div>
          </dl>
          <dl className="detail-group">
            <div className="detail-row">
              <dt>Valid from</dt>
              <dd>{formatUtc(id.certificate_not_before)}</dd>
            </div>
            <div className="detail-row">
              <dt>Valid until</dt>
              <dd data-testid="identity-not-after">{formatUtc(id.certificate_not_after)}</dd>
            </div>
            <div className="detail-row">
              <dt>Rotation</dt>
              <dd data-testid="identity-rotation">
                {id.status === "revoked"
                  ? `revoked${id.revoked_at ? ` at ${formatUtc(id.revoked_at)}` : ""}${id.revoked_reason ? `: ${id.revoked_reason}` : ""}`
                  : timing?.state === "expired"
                    ? "expired: the node must enroll again"
                    : timing?.state === "rotation_due"
                      ? "due now: the agent rotates on its next heartbeat"
                      : `the agent rotates from ${timing?.rotationFrom.slice(0, 10)}`}
              </dd>
            </div>
          </dl>
        </div>
      ) : (
        <p className="panel-empty">No identity: this is not an enrolled node.</p>
      )}
      {node.identities.length > 1 ? (
        <div className="table-wrap">
          <table className="table table-dense" data-testid="node-identities">
            <thead>
              <tr>
                <th scope="col">Serial</th>
                <th scope="col">Status</th>
                <th scope="col">Issued</th>
                <th scope="col">Valid until</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {node.identities.map((i) => (
                <tr key={i.identity_id}>
                  <td className="mono" title={i.certificate_serial}>
                    {shortHex(i.certificate_serial, 20)}
                  </td>
                  <td>
                    <StatusBadge tone={identityTone(i.status)}>{i.status}</StatusBadge>
                  </td>
                  <td>
                    <UtcTime iso={i.issued_at} />
                  </td>
                  <td>
                    <UtcTime iso={i.certificate_not_after} />
                  </td>
                  <td>
                    <UtcTime iso={i.revoked_at ?? i.rotated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Memberships({ node, groups }: { node: NodeDetail; groups: Data["groups"] }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  return (
    <section className="panel" aria-labelledby="memberships-title" data-testid="node-memberships">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="memberships-title">
            Memberships
          </h2>
          <p className="panel-subtitle">The clusters this node belongs to. A group is a folder for finding nodes, never a permission.</p>
        </div>
      </header>
      {action.error ? <Notice tone="error">{action.error}</Notice> : null}
      <div className="table-wrap">
        <table className="table table-dense">
          <thead>
            <tr>
              <th scope="col">Cluster</th>
              <th scope="col">Status</th>
              <th scope="col">Group</th>
              <th scope="col">Joined</th>
              <th scope="col">Last seen</th>
              <th scope="col">Heartbeats</th>
            </tr>
          </thead>
          <tbody>
            {node.memberships.map((m) => (
              <tr key={m.cluster_id}>
                <td>
                  <Link to={`/fabric/clusters/${m.cluster_id}`} className="mono">
                    {m.cluster_slug ?? m.cluster_id}
                  </Link>
                </td>
                <td>
                  <StatusBadge tone={m.status === "active" ? "ok" : "danger"}>{m.status}</StatusBadge>
                </td>
                <td>
                  {m.cluster_id === node.cluster?.cluster_id && m.status === "active" ? (
                    <select
                      className="input input-compact"
                      aria-label="Group"
                      value={m.group_id ?? ""}
                      disabled={!hydrated || action.busy !== null}
                      onChange={(e) => void action.run("group", () => client.fabric.nodes.setGroup.mutate({ id: node.node_id, cluster_id: m.cluster_id, group_id: e.target.value || null }))}
                    >
                      <option value="">no group</option>
                      {groups.map((g) => (
                        <option key={g.group_id} value={g.group_id}>
                          {g.name}
                        </option>
                      ))}
                    </select>
                  ) : (
                    (groups.find((g) => g.group_id === m.group_id)?.name ?? <span className="muted">—</span>)
                  )}
                </td>
                <td>
                  <UtcTime iso={m.joined_at} />
                </td>
                <td>
                  <UtcTime iso={m.last_seen_at} empty="Never" />
                </td>
                <td>{m.heartbeat_count.toLocaleString("en-US")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function AssignRole({ node, catalog, tenants }: { node: NodeDetail; catalog: RoleCatalogEntry[]; tenants: Data["tenants"] }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [role, setRole] = useState(catalog[0]?.role ?? "");
  const [tenant, setTenant] = useState("");
  const entry = catalog.find((r) => r.role === role);
  const missing = missingCapability(entry, node.capabilities);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const done = await action.run("assign", () => client.fabric.nodes.assignRole.mutate({ id: node.node_id, role, tenant_id: tenant || null }));
    if (done) setTenant("");
  };
  return (
    <form className="fabric-assign" onSubmit={(e) => void submit(e)} data-testid="assign-role">
      <h3 className="detail-group-title">Assign a role</h3>
      {action.error ? (
        <Notice tone="error" testId="assign-role-error">
          {action.error}
        </Notice>
      ) : null}
      <div className="form-row">
        <div className="field">
          <label className="field-label" htmlFor="assign-role-role">
            Role
          </label>
          <select id="assign-role-role" className="input" value={role} onChange={(e) => setRole(e.target.value)}>
            {catalog.map((r) => (
              <option key={r.role} value={r.role}>
                {r.role}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-grow">
          <label className="field-label" htmlFor="assign-role-tenant">
            For
          </label>
          <select id="assign-role-tenant" className="input" value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">every organization</option>
            {tenants.map((t) => (
              <option key={t.tenant_id} value={t.tenant_id}>
                {t.name} ({t.slug})
              </option>
            ))}
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={!hydrated || action.busy !== null || !role || node.health === "revoked"} data-testid="assign-role-submit">
            {action.busy ? "Assigning…" : "Assign"}
          </button>
        </div>
      </div>
      {entry ? (
        <p className="field-hint">
          {entry.description}. Runs {entry.job_types.join(", ")}; needs the capability <code>{entry.capability}</code>
          {missing ? <strong className="error-text"> — this node does not report it (yet): the assignment will be refused</strong> : null}.{" "}
          {tenant ? "Only this organization's jobs go to the node, and the control plane's own workers stop taking them." : "Serving every organization is flagged as a risky state."}
        </p>
      ) : null}
    </form>
  );
}

function CapabilitiesAndRoles({ node, catalog, tenants }: { node: NodeDetail; catalog: RoleCatalogEntry[]; tenants: Data["tenants"] }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  return (
    <section className="panel" aria-labelledby="caps-title" data-testid="node-capabilities-roles">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="caps-title">
            Capabilities and roles
          </h2>
          <p className="panel-subtitle">What the node says it can do is not what it may do: only the roles on the right let it run work, and a node can never give itself a role.</p>
        </div>
      </header>
      <div className="detail-columns">
        <section className="detail-group" aria-label="Capabilities" data-testid="node-capabilities">
          <h3 className="detail-group-title">Capabilities · reported by the node</h3>
          {node.capabilities.length ? (
            <dl>
              {node.capabilities.map((c) => (
                <div className="detail-row" key={c.name}>
                  <dt>{c.name.replace(/_/g, " ")}</dt>
                  <dd className="break-all">{factText(c.value)}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="muted">None reported yet: they arrive with the first heartbeat.</p>
          )}
        </section>
        <section className="detail-group" aria-label="Assigned roles" data-testid="node-roles">
          <h3 className="detail-group-title">Roles · assigned by a platform owner</h3>
          {action.error ? <Notice tone="error">{action.error}</Notice> : null}
          {node.roles.length ? (
            <ul className="fabric-role-list">
              {node.roles.map((r) => (
                <li key={r.assignment_id} data-testid="node-role" data-role={r.role} data-tenant={r.tenant_slug ?? "*"}>
                  <span className="cell-stack">
                    <span>
                      <span className="mono">{r.role}</span> for <strong>{r.tenant_slug ?? "every organization"}</strong>
                    </span>
                    <span className="cell-note">
                      {r.job_types.join(", ")} · by {who(r.assigned_by)} · {r.assigned_at.slice(0, 10)}
                    </span>
                  </span>
                  <ConfirmButton
                    label="Remove"
                    prompt="Remove this role?"
                    confirmLabel="Remove"
                    busy={!hydrated || action.busy !== null}
                    testId="remove-role"
                    onConfirm={() => void action.run(`remove:${r.assignment_id}`, () => client.fabric.nodes.removeRole.mutate({ id: node.node_id, assignment_id: r.assignment_id }))}
                  />
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted" data-testid="node-no-roles">
              No roles: this node runs nothing.
            </p>
          )}
          {node.health !== "revoked" && node.identity ? <AssignRole node={node} catalog={catalog} tenants={tenants} /> : null}
        </section>
      </div>
    </section>
  );
}

function Workloads({ node }: { node: NodeDetail }) {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  return (
    <section className="panel" aria-labelledby="workloads-title" data-testid="node-workloads">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="workloads-title">
            Workloads
          </h2>
          <p className="panel-subtitle">Desired by its roles (signed into the node&rsquo;s desired state) against what the agent reports in its heartbeats.</p>
        </div>
      </header>
      {action.error ? <Notice tone="error">{action.error}</Notice> : null}
      {node.workloads.length === 0 ? (
        <p className="panel-empty">No workloads: assign a role to give this node one.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Workload</th>
                <th scope="col">Desired</th>
                <th scope="col">Reported</th>
                <th scope="col">Detail</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {node.workloads.map((w) => (
                <tr key={`${w.cluster_id}:${w.type}`} data-testid="node-workload" data-type={w.type} data-reported={w.reported} data-in-sync={w.in_sync}>
                  <td className="mono">{w.type}</td>
                  <td>
                    {w.desired}
                    {w.paused ? <span className="badge badge-warn">paused</span> : null}
                  </td>
                  <td>
                    <span className="cell-stack">
                      <StatusBadge tone={workloadTone(w)} testId="workload-reported">
                        {w.reported}
                      </StatusBadge>
                      <span className="cell-note">{w.reported_at ? `${w.reported_version ?? ""} · ${w.reported_at.slice(11, 19)} UTC` : "not reported yet"}</span>
                    </span>
                  </td>
                  <td className="cell-note break-all">
                    {Object.entries(w.reported_detail)
                      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${factText(v)}`)
                      .join(" · ") || "—"}
                  </td>
                  <td className="cell-actions">
                    {w.desired === "running" || w.paused ? (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={!hydrated || action.busy !== null}
                        onClick={() => void action.run(`pause:${w.type}`, () => client.fabric.nodes.setWorkload.mutate({ id: node.node_id, type: w.type, paused: !w.paused, cluster_id: w.cluster_id }))}
                      >
                        {w.paused ? "Resume" : "Pause"}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {node.running_jobs.length ? (
        <div className="panel-body">
          <h3 className="detail-group-title">Running now</h3>
          <ul className="fabric-plain-list">
            {node.running_jobs.map((j) => (
              <li key={j.job_id} className="mono">
                {j.job_type} · {j.job_id.slice(0, 8)} · since {j.started_at.slice(11, 19)} UTC
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function Heartbeats({ node }: { node: NodeDetail }) {
  return (
    <section className="panel" aria-labelledby="heartbeats-title" data-testid="node-heartbeats">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="heartbeats-title">
            Recent heartbeats
          </h2>
          <p className="panel-subtitle">Signed by the node&rsquo;s key; the newest 20 of the bounded history.</p>
        </div>
      </header>
      {node.recent_heartbeats.length === 0 ? (
        <p className="panel-empty">No heartbeat yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Status</th>
                <th scope="col">Agent</th>
                <th scope="col">Desired state</th>
                <th scope="col">From</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {node.recent_heartbeats.map((h) => {
                const degraded = (h.detail as { degraded?: { reason?: string } }).degraded;
                return (
                  <tr key={h.heartbeat_id}>
                    <td>
                      <UtcTime iso={h.received_at} />
                    </td>
                    <td>
                      <StatusBadge tone={h.status === "healthy" ? "ok" : "warn"}>{h.status}</StatusBadge>
                    </td>
                    <td className="mono">{h.agent_version}</td>
                    <td>{h.snapshot_version === null ? <span className="muted">none yet</span> : `v${h.snapshot_version}`}</td>
                    <td className="mono">{h.source_ip ?? "—"}</td>
                    <td className="cell-note">{degraded?.reason ?? ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Enrollment({ node }: { node: NodeDetail }) {
  const e = node.enrollment;
  if (!e) return null;
  return (
    <section className="panel" aria-labelledby="enrollment-title" data-testid="node-enrollment">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="enrollment-title">
            Enrollment
          </h2>
          <p className="panel-subtitle">
            Join token <span className="mono">{e.token_id}</span>, {e.auto_approved ? "approved on redemption (bootstrap)" : `approved by ${who(e.approved_by)}`}
            {e.approved_at ? ` at ${formatUtc(e.approved_at)}` : ""}.
          </p>
        </div>
      </header>
      <div className="detail-columns">
        <div className="detail-group">
          <h3 className="detail-group-title">Verified by Cairn</h3>
          <dl>
          <div className="detail-row">
            <dt>Token matched</dt>
            <dd>{e.verified.token_matched ? "yes" : "no"}</dd>
          </div>
          <div className="detail-row">
            <dt>Proof of key</dt>
            <dd>{e.verified.proof_of_possession ? "yes" : "no"}</dd>
          </div>
          <div className="detail-row">
            <dt>Bindings</dt>
            <dd>
              {Object.entries(e.verified.binding)
                .map(([k, v]) => `${k.replace(/_/g, " ")} ${v.replace("_", " ")}`)
                .join(" · ")}
            </dd>
          </div>
          <div className="detail-row">
            <dt>Source address</dt>
            <dd className="mono">{e.verified.source_address ?? "unknown"}</dd>
          </div>
          </dl>
        </div>
        <div className="detail-group">
          <h3 className="detail-group-title">Claimed by the node</h3>
          <dl>
          <div className="detail-row">
            <dt>Hostname</dt>
            <dd className="mono">{e.claimed.hostname}</dd>
          </div>
          <div className="detail-row">
            <dt>Machine id</dt>
            <dd className="mono break-all">{e.claimed.machine_id ?? "—"}</dd>
          </div>
          {Object.entries(e.claimed.facts).map(([k, v]) => (
            <div className="detail-row" key={k}>
              <dt>{k.replace(/_/g, " ")}</dt>
              <dd>{factText(v)}</dd>
            </div>
          ))}
          </dl>
        </div>
      </div>
    </section>
  );
}

function AuditTimeline({ items, next, paged, nodeId }: { items: NodeAuditItem[]; next: string | null; paged: boolean; nodeId: string }) {
  return (
    <section className="panel" aria-labelledby="audit-title" data-testid="node-audit">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="audit-title">
            Audit timeline
          </h2>
          <p className="panel-subtitle">Enrollment, approval, certificates, roles, health changes, revocation and refused requests, from the platform&rsquo;s hash chain.</p>
        </div>
      </header>
      {items.length === 0 ? (
        <p className="panel-empty">Nothing recorded.</p>
      ) : (
        <ol className="fabric-timeline">
          {items.map((e) => (
            <li key={e.event_id} className="fabric-timeline-item" data-testid="node-audit-event" data-action={e.action} data-outcome={e.outcome}>
              <span className="fabric-timeline-time mono">{e.timestamp.slice(0, 19).replace("T", " ")}</span>
              <span className="cell-stack">
                <span>
                  <span className="mono">{e.action}</span> <StatusBadge tone={e.outcome === "success" ? "ok" : e.outcome === "denied" ? "danger" : "neutral"}>{e.outcome}</StatusBadge>
                </span>
                <span className="cell-note break-all">
                  by {who(e.actor)}
                  {Object.keys(e.details).length
                    ? ` · ${Object.entries(e.details)
                        .filter(([, v]) => v !== null && typeof v !== "object")
                        .map(([k, v]) => `${k}: ${String(v)}`)
                        .join(" · ")}`
                    : ""}
                </span>
              </span>
            </li>
          ))}
        </ol>
      )}
      {next || paged ? (
        <footer className="audit-pager">
          {paged ? (
            <Link to={`/fabric/nodes/${nodeId}`} className="button button-small">
              Newest
            </Link>
          ) : (
            <span />
          )}
          {next ? (
            <Link to={`/fabric/nodes/${nodeId}?audit_cursor=${encodeURIComponent(next)}`} className="button button-small">
              Older events
            </Link>
          ) : null}
        </footer>
      ) : null}
    </section>
  );
}

export default function FabricNodePage() {
  const data = useLoaderData<typeof loader>();
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [revoked, setRevoked] = useState<{ identities: number; roles: number } | null>(null);
  useRevalidateEvery(5_000, data.allowed && data.data.node.health !== "revoked");
  if (!data.allowed) {
    return (
      <FabricPage title="Node" testId="page-fabric-node">
        <FabricDenied what="A node's identity, health and trust material" message={data.message} />
      </FabricPage>
    );
  }
  const { node, audit, auditNext, auditPaged, catalog, tenants, groups, now } = data.data;
  const isRevoked = node.health === "revoked";
  return (
    <FabricPage
      title={node.name}
      testId="page-fabric-node"
      description={
        <>
          {node.kind === "agent" ? "Enrolled node" : "Control-plane process"}
          {node.cluster ? (
            <>
              {" "}
              in cluster{" "}
              <Link to={`/fabric/clusters/${node.cluster.cluster_id}`} className="mono">
                {node.cluster.slug}
              </Link>
            </>
          ) : null}
          {node.group ? ` · group ${node.group.name}` : ""} · enrolled {node.enrolled_at.slice(0, 10)}
        </>
      }
      actions={
        node.kind === "agent" && !isRevoked ? (
          <ReasonAction
            label="Revoke node"
            prompt="Why revoke it? Its next request is refused and it stops claiming work."
            confirmLabel="Revoke"
            busy={!hydrated || action.busy !== null}
            testId="revoke-node"
            onConfirm={async (reason) => {
              const r = await action.run("revoke", () => client.fabric.nodes.revoke.mutate({ id: node.node_id, reason }));
              if (r) setRevoked({ identities: r.identities_revoked, roles: r.roles_removed });
              return Boolean(r);
            }}
          />
        ) : null
      }
    >
      {action.error ? (
        <Notice tone="error" testId="node-action-error">
          {action.error}
        </Notice>
      ) : null}
      {revoked ? (
        <Notice tone="success" testId="node-revoked">
          Revoked: {revoked.identities === 1 ? "1 identity" : `${revoked.identities} identities`} refused from now on and {revoked.roles === 1 ? "1 role" : `${revoked.roles} roles`} removed. The
          agent&rsquo;s next request is refused and it exits.
        </Notice>
      ) : isRevoked ? (
        <Notice tone="warn" testId="node-is-revoked">
          This node is revoked: every request it makes is refused (and audited). To bring the host back, enroll it again with a new join token.
        </Notice>
      ) : null}
      <Facts node={node} />
      <Identity node={node} now={now} />
      <CapabilitiesAndRoles node={node} catalog={catalog} tenants={tenants} />
      <Workloads node={node} />
      <Memberships node={node} groups={groups} />
      <Heartbeats node={node} />
      <Enrollment node={node} />
      <AuditTimeline items={audit} next={auditNext} paged={auditPaged} nodeId={node.node_id} />
    </FabricPage>
  );
}
