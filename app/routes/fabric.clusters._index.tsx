// Clusters: the fabric's trust domains, each with its own CA and authority state, and a form to create one.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useNavigate } from "@remix-run/react";
import { useRef, type FormEvent } from "react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { healthBreakdown, shortHex } from "../lib/fabric";
import { useFabricAction } from "../lib/fabric-actions";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { AuthorityBadge, HealthBadge } from "../components/fabric-badges";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Clusters") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return platformOnly(request, async () => (await context.caller.fabric.clusters.list()).items);
}

const DESCRIPTION = "Trust domains: each cluster has its own certificate authority, issues its own node certificates and never trusts another cluster. A degraded or partitioned cluster refuses approvals, certificates, role and policy changes until a platform owner recovers it.";

function CreateCluster() {
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const navigate = useNavigate();
  const action = useFabricAction();
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (k: string) => String(form.get(k) ?? "").trim();
    const ttl = text("cert_ttl_hours");
    const created = await action.run("create", () =>
      client.fabric.clusters.create.mutate({
        slug: text("slug"),
        name: text("name"),
        ...(text("region") ? { region: text("region") } : {}),
        ...(text("description") ? { description: text("description") } : {}),
        ...(ttl ? { cert_ttl_hours: Number(ttl) } : {}),
      }),
    );
    if (created) {
      formRef.current?.reset();
      navigate(`/fabric/clusters/${created.cluster_id}`);
    }
  };

  return (
    <section className="panel" aria-labelledby="create-cluster-title" data-testid="create-cluster">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="create-cluster-title">
            Create a cluster
          </h2>
          <p className="panel-subtitle">A new CA (Ed25519) is generated for it; its private key stays encrypted on the control plane and is never shown.</p>
        </div>
      </header>
      <div className="panel-body">
        {action.error ? (
          <Notice tone="error" testId="create-cluster-error">
            {action.error}
          </Notice>
        ) : null}
        <form ref={formRef} className="form-grid" onSubmit={(e) => void submit(e)} method="post">
          <div className="field">
            <label className="field-label" htmlFor="cluster-slug">
              Slug
            </label>
            <input id="cluster-slug" className="input mono" name="slug" required pattern="[a-z0-9][a-z0-9\-]{1,62}" autoComplete="off" spellCheck={false} placeholder="edge" />
            <p className="field-hint">Agents name it with --cluster; lowercase letters, digits and dashes.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cluster-name">
              Name
            </label>
            <input id="cluster-name" className="input" name="name" required maxLength={200} autoComplete="off" placeholder="Edge sites" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cluster-region">
              Region <span className="muted">(optional)</span>
            </label>
            <input id="cluster-region" className="input" name="region" maxLength={100} autoComplete="off" placeholder="eu-west" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cluster-ttl">
              Node certificate lifetime (hours)
            </label>
            <input id="cluster-ttl" className="input" name="cert_ttl_hours" type="number" min={1} max={8760} placeholder="720" />
            <p className="field-hint">Agents rotate when a third of it is left.</p>
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="cluster-description">
              Description <span className="muted">(optional)</span>
            </label>
            <input id="cluster-description" className="input" name="description" maxLength={2000} autoComplete="off" />
          </div>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={!hydrated || action.busy !== null} data-testid="create-cluster-submit">
              {action.busy ? "Creating…" : "Create cluster"}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

export default function ClustersPage() {
  const data = useLoaderData<typeof loader>();
  if (!data.allowed) {
    return (
      <FabricPage title="Clusters" testId="page-fabric-clusters" description={DESCRIPTION}>
        <FabricDenied what="The cluster list" message={data.message} />
      </FabricPage>
    );
  }
  const clusters = data.data;
  return (
    <FabricPage title="Clusters" testId="page-fabric-clusters" description={DESCRIPTION}>
      {clusters.length === 0 ? (
        <EmptyState icon="fabric" title="No clusters yet">
          Create one below, then a join token for the first host.
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Clusters">
          <div className="table-wrap">
            <table className="table" data-testid="clusters-table">
              <thead>
                <tr>
                  <th scope="col">Cluster</th>
                  <th scope="col">Authority</th>
                  <th scope="col">Nodes</th>
                  <th scope="col">Pending requests</th>
                  <th scope="col">CA</th>
                  <th scope="col">Certificates</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {clusters.map((c) => (
                  <tr key={c.cluster_id} data-testid="cluster-row" data-slug={c.slug}>
                    <td className="cell-name">
                      <span className="cell-stack">
                        <Link to={`/fabric/clusters/${c.cluster_id}`} className="cell-title">
                          {c.name}
                        </Link>
                        <span className="cell-note mono">{c.slug}</span>
                        {c.region ? <span className="cell-note">{c.region}</span> : null}
                      </span>
                    </td>
                    <td>
                      <span className="cell-stack">
                        <AuthorityBadge state={c.authority_state} />
                        {c.authority_reason ? <span className="cell-note">{c.authority_reason}</span> : null}
                      </span>
                    </td>
                    <td>
                      <span className="fabric-health-counts">
                        {c.nodes.total === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          healthBreakdown(c.nodes.by_health).map(({ health, count }) => (
                            <span key={health} className="fabric-health-count">
                              <HealthBadge health={health} testId={`health-count-${health}`} /> {count}
                            </span>
                          ))
                        )}
                      </span>
                    </td>
                    <td>{c.pending_join_requests ? <Link to={`/fabric/join-requests?cluster=${c.cluster_id}`}>{c.pending_join_requests} pending</Link> : <span className="muted">none</span>}</td>
                    <td>
                      {c.ca ? (
                        <span className="cell-stack">
                          <Link to={`/fabric/trust?cluster=${c.cluster_id}`} className="mono" title={c.ca.fingerprint}>
                            {shortHex(c.ca.fingerprint)}
                          </Link>
                          <span className="cell-note">until {c.ca.not_after.slice(0, 10)}</span>
                        </span>
                      ) : (
                        <span className="muted">no CA</span>
                      )}
                    </td>
                    <td>{c.cert_ttl_hours} h</td>
                    <td>
                      <UtcTime iso={c.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <CreateCluster />
    </FabricPage>
  );
}
