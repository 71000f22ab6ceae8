// Join requests: each redemption of a join token, reviewed with what Cairn verified apart from what the node claims.
// Approving issues the node's certificate from its cluster's CA; approving and rejecting are high-risk, and a selection
// can be approved (or rejected) with one step-up, all or nothing.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { useState } from "react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { type JoinRequest } from "../lib/fabric";
import { useFabricAction, useRevalidateEvery } from "../lib/fabric-actions";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { JoinRequestHeader, JoinRequestReview } from "../components/fabric-join-request";
import { ReasonAction } from "../components/fabric-reason-action";
import { KeysetPager } from "../components/keyset-pager";
import { Notice } from "../components/notice";

export const meta: MetaFunction = () => [{ title: pageTitle("Join requests") }];

const STATUSES = ["pending", "approved", "rejected"] as const;
type Status = (typeof STATUSES)[number] | "all";

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const raw = url.searchParams.get("status") ?? "pending";
  const status: Status = raw === "all" || (STATUSES as readonly string[]).includes(raw) ? (raw as Status) : "pending";
  const cluster = url.searchParams.get("cluster") ?? "";
  const cursor = url.searchParams.get("cursor") ?? undefined;
  return platformOnly(request, async () => {
    const [clusters, requests] = await Promise.all([
      context.caller.fabric.clusters.list(),
      context.caller.fabric.joinRequests.list({ ...(status === "all" ? {} : { status }), ...(cluster ? { cluster_id: cluster } : {}), cursor, limit: 50 }),
    ]);
    return { status, cluster, paged: Boolean(cursor), clusters: clusters.items, requests: requests.items, next_cursor: requests.next_cursor };
  });
}

const DESCRIPTION =
  "Every redemption of a join token opens a request here. Left: what Cairn verified itself. Right: what the node claims, unchecked. Approving issues the node's certificate from its cluster's own CA; approving and rejecting ask for your passkey, once for a whole selection.";

type Outcome = { kind: "approved"; items: { request_id: string; node_id: string; node_name: string; certificate_serial: string }[] } | { kind: "rejected"; count: number };

export default function JoinRequestsPage() {
  const data = useLoaderData<typeof loader>();
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const action = useFabricAction();
  const [params] = useSearchParams();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  useRevalidateEvery(5_000, data.allowed && data.data.status === "pending");

  if (!data.allowed) {
    return (
      <FabricPage title="Join requests" testId="page-fabric-join-requests" description={DESCRIPTION}>
        <FabricDenied what="Join requests" message={data.message} />
      </FabricPage>
    );
  }
  const { status, cluster, clusters, requests, next_cursor, paged } = data.data;
  const pending = requests.filter((r) => r.status === "pending");
  const chosen = pending.filter((r) => selected.has(r.request_id)).map((r) => r.request_id);
  const busy = !hydrated || action.busy !== null;

  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const approve = async (ids: string[]) => {
    const result = await action.run("approve", () => (ids.length === 1 ? client.fabric.joinRequests.approve.mutate({ id: ids[0]! }) : client.fabric.joinRequests.approveBatch.mutate({ ids })));
    if (result) {
      setOutcome({ kind: "approved", items: result.approved });
      setSelected(new Set());
    }
    return Boolean(result);
  };
  const reject = async (ids: string[], reason: string) => {
    const result = await action.run("reject", () => (ids.length === 1 ? client.fabric.joinRequests.reject.mutate({ id: ids[0]!, reason }) : client.fabric.joinRequests.rejectBatch.mutate({ ids, reason })));
    if (result) {
      setOutcome({ kind: "rejected", count: result.rejected.length });
      setSelected(new Set());
    }
    return Boolean(result);
  };

  return (
    <FabricPage title="Join requests" testId="page-fabric-join-requests" description={DESCRIPTION}>
      <Form method="get" className="form-row fabric-filter">
        <div className="field">
          <label className="field-label" htmlFor="jr-status">
            Status
          </label>
          <select id="jr-status" className="input" name="status" defaultValue={status} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            {[...STATUSES, "all" as const].map((s) => (
              <option key={s} value={s}>
                {s === "all" ? "All" : s.charAt(0).toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="jr-cluster">
            Cluster
          </label>
          <select id="jr-cluster" className="input" name="cluster" defaultValue={cluster} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
            <option value="">All clusters</option>
            {clusters.map((c) => (
              <option key={c.cluster_id} value={c.cluster_id}>
                {c.slug}
              </option>
            ))}
          </select>
        </div>
        <noscript>
          <button type="submit" className="button">
            Filter
          </button>
        </noscript>
      </Form>

      {outcome?.kind === "approved" ? (
        <Notice tone="success" testId="join-requests-approved">
          Approved {outcome.items.length === 1 ? "1 node" : `${outcome.items.length} nodes`}:{" "}
          {outcome.items.map((a, i) => (
            <span key={a.request_id}>
              {i > 0 ? ", " : null}
              <Link to={`/fabric/nodes/${a.node_id}`} data-testid="approved-node-link">
                {a.node_name}
              </Link>{" "}
              <span className="muted mono">(certificate {a.certificate_serial.slice(0, 12)}…)</span>
            </span>
          ))}
          . Each agent picks up its certificate on its next poll.
        </Notice>
      ) : null}
      {outcome?.kind === "rejected" ? (
        <Notice tone="success" testId="join-requests-rejected">
          Rejected {outcome.count === 1 ? "1 request" : `${outcome.count} requests`}; their agents are told so.
        </Notice>
      ) : null}
      {action.error ? (
        <Notice tone="error" testId="join-requests-error">
          {action.error}
        </Notice>
      ) : null}

      {pending.length > 1 ? (
        <section className="panel fabric-batch" aria-label="Selection" data-testid="join-requests-batch">
          <div className="panel-body inline-group">
            <label className="checkbox">
              <input
                type="checkbox"
                checked={chosen.length === pending.length}
                onChange={(e) => setSelected(e.target.checked ? new Set(pending.map((r) => r.request_id)) : new Set())}
                data-testid="select-all-requests"
              />
              <span className="checkbox-label">Select all {pending.length} pending</span>
            </label>
            <button type="button" className="button button-primary" disabled={busy || chosen.length === 0} onClick={() => void approve(chosen)} data-testid="approve-selected">
              {action.busy === "approve" ? "Approving…" : `Approve selected (${chosen.length})`}
            </button>
            {chosen.length ? (
              <ReasonAction label={`Reject selected (${chosen.length})`} prompt="Why reject them?" confirmLabel="Reject" busy={busy} testId="reject-selected" onConfirm={(reason) => reject(chosen, reason)} />
            ) : null}
            <span className="field-hint">One passkey confirmation covers the whole selection; all succeed or none does.</span>
          </div>
        </section>
      ) : null}

      {requests.length === 0 ? (
        <section className="panel">
          <p className="panel-empty" data-testid="join-requests-empty">
            {status === "pending" ? (
              <>
                Nothing waits for review. Hosts open requests with <code>cairn agent enroll --url … --token …</code>; create a token on <Link to="/fabric/join-tokens">Join tokens</Link>.
              </>
            ) : (
              "No join requests match."
            )}
          </p>
        </section>
      ) : (
        requests.map((r) => <RequestCard key={r.request_id} r={r} busy={busy} selected={selected.has(r.request_id)} onSelect={(on) => toggle(r.request_id, on)} onApprove={() => void approve([r.request_id])} onReject={(reason) => reject([r.request_id], reason)} />)
      )}
      <KeysetPager path="/fabric/join-requests" filters={Object.fromEntries([...params.entries()].filter(([k]) => k !== "cursor"))} nextCursor={next_cursor} paged={paged} />
    </FabricPage>
  );
}

function RequestCard({ r, busy, selected, onSelect, onApprove, onReject }: { r: JoinRequest; busy: boolean; selected: boolean; onSelect: (on: boolean) => void; onApprove: () => void; onReject: (reason: string) => Promise<boolean> }) {
  const isPending = r.status === "pending";
  return (
    <section className="panel fabric-request" aria-label={`Join request from ${r.claimed.node_name}`} data-testid="join-request" data-request-id={r.request_id} data-status={r.status}>
      <header className="panel-header">
        {isPending ? (
          <input type="checkbox" className="fabric-request-select" checked={selected} onChange={(e) => onSelect(e.target.checked)} aria-label={`Select ${r.claimed.node_name}`} data-testid="select-request" />
        ) : null}
        <JoinRequestHeader request={r} />
      </header>
      <JoinRequestReview request={r} />
      <footer className="panel-body fabric-request-foot">
        {isPending ? (
          <span className="inline-group">
            <button type="button" className="button button-primary button-small" disabled={busy} onClick={onApprove} data-testid="approve-request">
              Approve
            </button>
            <ReasonAction label="Reject" prompt="Why reject it?" confirmLabel="Reject" busy={busy} testId="reject-request" onConfirm={onReject} />
            <span className="field-hint">Asks for your passkey.</span>
          </span>
        ) : r.status === "approved" ? (
          <span className="cell-note">
            Approved {r.auto_approved ? "on redemption (bootstrap token)" : `by ${(r.reviewed_by ?? "").replace(/^user:/, "")}`}
            {r.node_id ? (
              <>
                {" "}
                · <Link to={`/fabric/nodes/${r.node_id}`}>open the node</Link>
              </>
            ) : null}
          </span>
        ) : (
          <span className="cell-note">
            Rejected by {(r.reviewed_by ?? "").replace(/^user:/, "")}
            {r.rejection_reason ? `: ${r.rejection_reason}` : ""}
          </span>
        )}
      </footer>
    </section>
  );
}
