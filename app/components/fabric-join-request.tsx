// One join request as a reviewer needs it: what Cairn verified itself (token, proof of possession of the key, binding,
// source address) in one column, and what the node merely claims about itself (facts, capabilities) in another.
import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import { factText, JOIN_REQUEST_STATUS, type JoinRequest } from "../lib/fabric";
import { formatUtc } from "../lib/format";
import { StatusBadge, type StatusTone } from "./status-badge";
import { AuthorityBadge } from "./fabric-badges";

function Check({ ok, label, children, testId }: { ok: boolean | null; label: string; children?: ReactNode; testId: string }) {
  const tone: StatusTone = ok === null ? "neutral" : ok ? "ok" : "danger";
  return (
    <div className="detail-row" data-testid={testId} data-ok={ok === null ? "n/a" : String(ok)}>
      <dt>{label}</dt>
      <dd>
        <StatusBadge tone={tone}>{ok === null ? "not bound" : ok ? "verified" : "failed"}</StatusBadge>
        {children ? <span className="cell-note fabric-check-detail">{children}</span> : null}
      </dd>
    </div>
  );
}

function Claim({ label, value, testId }: { label: string; value: unknown; testId?: string }) {
  return (
    <div className="detail-row" data-testid={testId}>
      <dt>{label}</dt>
      <dd className="break-all">{factText(value)}</dd>
    </div>
  );
}

export function JoinRequestReview({ request: r }: { request: JoinRequest }) {
  const v = r.verified;
  const c = r.claimed;
  const bound = (state: "matched" | "not_bound") => (state === "matched" ? true : null);
  return (
    <div className="detail-columns fabric-review" data-testid="join-request-review">
      <section className="detail-group fabric-review-verified" aria-label="Verified by Cairn" data-testid="verified-facts">
        <h3 className="detail-group-title">Verified by Cairn</h3>
        <p className="cell-note">Checked by the control plane when the request arrived.</p>
        <dl>
          <Check ok={v.token_matched} label="Join token" testId="verified-token">
            <span className="mono">{v.token_id}</span> · {v.token_scope}
          </Check>
          <Check ok={v.proof_of_possession} label="Holds the private key" testId="verified-proof">
            signed with the key it presents
          </Check>
          <div className="detail-row" data-testid="verified-key-fingerprint">
            <dt>Key fingerprint</dt>
            <dd className="mono break-all">{v.key_fingerprint}</dd>
          </div>
          <Check ok={bound(v.binding.hostname)} label="Hostname binding" testId="verified-binding-hostname" />
          <Check ok={bound(v.binding.machine_id)} label="Machine id binding" testId="verified-binding-machine" />
          <Check ok={bound(v.binding.key_fingerprint)} label="Key binding" testId="verified-binding-key" />
          <div className="detail-row" data-testid="verified-source-address">
            <dt>Source address</dt>
            <dd className="mono">{v.source_address ?? "unknown"}</dd>
          </div>
          <div className="detail-row">
            <dt>Cluster named by the node</dt>
            <dd>{v.expected_cluster === "matched" ? "matches the token's cluster" : "not given"}</dd>
          </div>
        </dl>
      </section>
      <section className="detail-group fabric-review-claimed" aria-label="Claimed by the node" data-testid="claimed-facts">
        <h3 className="detail-group-title">Claimed by the node</h3>
        <p className="cell-note">What the node says about itself: nothing here was checked, and capabilities never grant anything.</p>
        <dl>
          <Claim label="Node name" value={c.node_name} testId="claimed-node-name" />
          <Claim label="Hostname" value={c.hostname} testId="claimed-hostname" />
          <Claim label="Machine id" value={c.machine_id} />
          <Claim label="Agent version" value={c.agent_version} />
          {Object.entries(c.facts).map(([k, val]) => (
            <Claim key={`fact:${k}`} label={k.replace(/_/g, " ")} value={val} />
          ))}
        </dl>
        <h4 className="fabric-subhead">Capabilities (claimed)</h4>
        <dl data-testid="claimed-capabilities">
          {Object.keys(c.capabilities).length ? Object.entries(c.capabilities).map(([k, val]) => <Claim key={`cap:${k}`} label={k.replace(/_/g, " ")} value={val} />) : <p className="muted">none reported</p>}
        </dl>
        {c.requested_roles.length ? <Claim label="Roles it asks for" value={c.requested_roles} /> : null}
      </section>
    </div>
  );
}

export function JoinRequestHeader({ request: r }: { request: JoinRequest }) {
  const status = JOIN_REQUEST_STATUS[r.status];
  return (
    <div className="fabric-request-head">
      <span className="cell-stack">
        <span className="cell-title" data-testid="join-request-node-name">
          {r.claimed.node_name}
        </span>
        <span className="cell-note">
          asks to join{" "}
          {r.cluster ? (
            <Link to={`/fabric/clusters/${r.cluster.cluster_id}`} className="mono">
              {r.cluster.slug}
            </Link>
          ) : (
            "a removed cluster"
          )}{" "}
          · <time dateTime={r.created_at}>{formatUtc(r.created_at)}</time>
        </span>
      </span>
      <span className="inline-group">
        {r.cluster && r.cluster.authority_state !== "healthy" ? <AuthorityBadge state={r.cluster.authority_state} /> : null}
        {r.auto_approved ? <span className="badge badge-warn">bootstrap: approved without review</span> : null}
        <StatusBadge tone={status.tone} testId="join-request-status">
          {status.label}
        </StatusBadge>
      </span>
    </div>
  );
}
