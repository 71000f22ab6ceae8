// Trust & certificates of a cluster: its CA (fingerprint, serial, validity, the public certificate) and every node
// certificate it issued. Public material only: the CA's private key stays encrypted on the control plane and each
// node's private key never leaves its node, so neither can be shown.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { platformOnly } from "../lib/fabric-load.server";
import { pageTitle } from "../lib/sections";
import { identityTone, shortHex } from "../lib/fabric";
import { FabricPage } from "../components/fabric-page";
import { FabricDenied } from "../components/fabric-denied";
import { AuthorityBadge } from "../components/fabric-badges";
import { CopyButton } from "../components/copy-button";
import { EmptyState } from "../components/empty-state";
import { StatusBadge } from "../components/status-badge";
import { UtcTime } from "../components/utc-time";
import { formatUtc } from "../lib/format";

export const meta: MetaFunction = () => [{ title: pageTitle("Trust & certificates") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const wanted = new URL(request.url).searchParams.get("cluster");
  return platformOnly(request, async () => {
    const clusters = (await context.caller.fabric.clusters.list()).items;
    const cluster = clusters.find((c) => c.cluster_id === wanted) ?? clusters[0] ?? null;
    const trust = cluster ? await context.caller.fabric.clusters.trust({ id: cluster.cluster_id }) : null;
    return { clusters, cluster, trust };
  });
}

const DESCRIPTION =
  "Each cluster is its own certificate authority: it certifies the keys its nodes generated themselves, and its certificates mean nothing to any other cluster. Only public material is shown here; private keys are never displayed or exported.";

export default function TrustPage() {
  const data = useLoaderData<typeof loader>();
  if (!data.allowed) {
    return (
      <FabricPage title="Trust & certificates" testId="page-fabric-trust" description={DESCRIPTION}>
        <FabricDenied what="Trust material" message={data.message} />
      </FabricPage>
    );
  }
  const { clusters, cluster, trust } = data.data;
  if (!cluster || !trust) {
    return (
      <FabricPage title="Trust & certificates" testId="page-fabric-trust" description={DESCRIPTION}>
        <EmptyState icon="fabric" title="No clusters yet">
          Every cluster gets its own CA when it is created. <Link to="/fabric/clusters">Create a cluster</Link>.
        </EmptyState>
      </FabricPage>
    );
  }
  const expiringSoon = trust.certificates.filter((c) => c.status === "active" && c.expires_soon).length;
  return (
    <FabricPage title="Trust & certificates" testId="page-fabric-trust" description={DESCRIPTION}>
      <Form method="get" className="form-row fabric-filter">
        <div className="field">
          <label className="field-label" htmlFor="trust-cluster">
            Cluster
          </label>
          <select id="trust-cluster" className="input" name="cluster" defaultValue={cluster.cluster_id} onChange={(e) => e.currentTarget.form?.requestSubmit()}>
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
          <AuthorityBadge state={trust.authority_state} /> <Link to={`/fabric/clusters/${cluster.cluster_id}`}>{cluster.name}</Link>
        </span>
      </Form>

      <section className="panel" aria-labelledby="ca-title" data-testid="trust-cas">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="ca-title">
              Certificate authority
            </h2>
            <p className="panel-subtitle">Agents pin this CA at enrollment (<code>--ca-fingerprint</code> lets an operator check it out of band) and verify every desired-state snapshot against it.</p>
          </div>
        </header>
        {trust.cas.map((ca) => (
          <div key={ca.ca_id} className="detail-columns" data-testid="trust-ca">
            <dl className="detail-group">
              <div className="detail-row">
                <dt>Fingerprint (SHA-256)</dt>
                <dd className="mono break-all" data-testid="ca-fingerprint">
                  {ca.fingerprint} <CopyButton value={ca.fingerprint} label="Copy" />
                </dd>
              </div>
              <div className="detail-row">
                <dt>Serial</dt>
                <dd className="mono break-all">{ca.serial}</dd>
              </div>
              <div className="detail-row">
                <dt>Status</dt>
                <dd>
                  <StatusBadge tone={ca.status === "active" ? "ok" : "neutral"}>{ca.status}</StatusBadge>
                </dd>
              </div>
            </dl>
            <dl className="detail-group">
              <div className="detail-row">
                <dt>Valid from</dt>
                <dd>{formatUtc(ca.not_before)}</dd>
              </div>
              <div className="detail-row">
                <dt>Valid until</dt>
                <dd data-testid="ca-not-after">{formatUtc(ca.not_after)}</dd>
              </div>
              <div className="detail-row">
                <dt>Certificate</dt>
                <dd>
                  <details>
                    <summary>Show the public certificate (PEM)</summary>
                    <pre className="fabric-pem" data-testid="ca-pem">
                      {ca.certificate_pem}
                    </pre>
                    <CopyButton value={ca.certificate_pem} label="Copy PEM" />
                  </details>
                </dd>
              </div>
            </dl>
          </div>
        ))}
        <p className="panel-footnote" data-testid="trust-private-note">
          The CA&rsquo;s private key is stored encrypted at rest on the control plane and is used only to issue certificates and sign desired state; no page or API returns it.
        </p>
      </section>

      <section className="panel" aria-labelledby="issued-title" data-testid="trust-certificates">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="issued-title">
              Issued node certificates
            </h2>
            <p className="panel-subtitle">
              {trust.certificates.length} issued
              {expiringSoon ? ` · ${expiringSoon} active ${expiringSoon === 1 ? "one expires" : "ones expire"} within 7 days` : ""}. Rotated certificates stay listed; revoked ones are refused on
              the node&rsquo;s next request.
            </p>
          </div>
        </header>
        {trust.certificates.length === 0 ? (
          <p className="panel-empty">No node certificate yet: one is issued when you approve a join request.</p>
        ) : (
          <div className="table-wrap">
            <table className="table table-dense" data-testid="trust-certificates-table">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Status</th>
                  <th scope="col">Serial</th>
                  <th scope="col">Key fingerprint</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Valid until</th>
                  <th scope="col">Ended</th>
                </tr>
              </thead>
              <tbody>
                {trust.certificates.map((c) => (
                  <tr key={c.identity_id} data-testid="trust-certificate-row" data-status={c.status}>
                    <td>
                      <Link to={`/fabric/nodes/${c.node_id}`} className="cell-title">
                        {c.node_name}
                      </Link>
                    </td>
                    <td>
                      <span className="cell-stack">
                        <StatusBadge tone={identityTone(c.status)}>{c.status}</StatusBadge>
                        {c.status === "active" && c.expires_soon ? <span className="badge badge-warn">expires soon</span> : null}
                      </span>
                    </td>
                    <td className="mono" title={c.serial}>
                      {shortHex(c.serial, 20)}
                    </td>
                    <td className="mono" title={c.key_fingerprint}>
                      {shortHex(c.key_fingerprint)}
                    </td>
                    <td>
                      <UtcTime iso={c.issued_at} />
                    </td>
                    <td>
                      <UtcTime iso={c.not_after} />
                    </td>
                    <td>
                      {c.revoked_at ? (
                        <span className="cell-stack">
                          <UtcTime iso={c.revoked_at} />
                          {c.revoked_reason ? <span className="cell-note">{c.revoked_reason}</span> : null}
                        </span>
                      ) : (
                        <UtcTime iso={c.rotated_at} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </FabricPage>
  );
}
