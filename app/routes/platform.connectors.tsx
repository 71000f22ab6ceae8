// Custom connectors: the executables a platform owner allow-lists for `custom` sources. Listing shows executable
// paths and hashes of the workers' machines, so it is high-risk like adding and removing: each needs a recent
// passkey step-up, and each is audited. Tenants never see this page's contents.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import type { inferRouterOutputs } from "@trpc/server";
import { useRef, useState, type FormEvent } from "react";
import type { AppRouter } from "../../server/trpc/router";
import { attempt } from "../lib/auth.server";
import { clientFailure } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { useHydrated } from "../lib/use-hydrated";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { PageHeader } from "../components/page-header";
import { EmptyState } from "../components/empty-state";
import { Notice } from "../components/notice";
import { StatusBadge, type StatusTone } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { CopyButton } from "../components/copy-button";
import { UtcTime } from "../components/utc-time";

type CustomConnector = inferRouterOutputs<AppRouter>["connectors"]["list"]["items"][number];

export const meta: MetaFunction = () => [{ title: pageTitle("Custom connectors") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  const result = await attempt(request, () => context.caller.connectors.list());
  if (result.ok) return { access: "granted" as const, items: result.value.items, message: null };
  // Owners without a fresh step-up confirm in the browser and load the list from there.
  if (result.failure.code === "STEP_UP_REQUIRED") return { access: "step_up" as const, items: [] as CustomConnector[], message: null };
  return { access: "denied" as const, items: [] as CustomConnector[], message: result.failure.message };
}

const STATUS: Record<CustomConnector["executable_status"], { tone: StatusTone; label: string }> = {
  ok: { tone: "ok", label: "Matches" },
  modified: { tone: "danger", label: "Modified" },
  missing: { tone: "danger", label: "Missing" },
  not_executable: { tone: "warn", label: "Not executable" },
};

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

function AddConnector({ onAdded }: { onAdded: (c: CustomConnector) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const formRef = useRef<HTMLFormElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (k: string) => String(form.get(k) ?? "").trim();
    const timeout = text("timeout_seconds");
    const maxMib = text("max_output_mib");
    setBusy(true);
    setError(null);
    try {
      const created = await runWithStepUp(() =>
        client.connectors.create.mutate({
          name: text("name"),
          display_name: text("display_name"),
          executable_path: text("executable_path"),
          ...(text("description") ? { description: text("description") } : {}),
          ...(text("sha256") ? { sha256: text("sha256") } : {}),
          ...(timeout ? { timeout_seconds: Number(timeout) } : {}),
          ...(maxMib ? { max_output_bytes: Math.round(Number(maxMib) * 1024 * 1024) } : {}),
        }),
      );
      formRef.current?.reset();
      onAdded(created);
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="add-connector-title" data-testid="add-custom-connector">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="add-connector-title">
            Allow-list an executable
          </h2>
          <p className="panel-subtitle">
            Cairn records its absolute path and the SHA-256 of its bytes, and refuses to run it if the file changes. The path must exist on the workers; it is checked and hashed on
            this host. You will be asked to confirm with your passkey.
          </p>
        </div>
      </header>
      <div className="panel-body">
        {error ? (
          <Notice tone="error" testId="custom-connector-error">
            {error}
          </Notice>
        ) : null}
        <form ref={formRef} className="form-grid" onSubmit={(e) => void submit(e)} method="post">
          <div className="field">
            <label className="field-label" htmlFor="cc-name">
              Name
            </label>
            <input id="cc-name" className="input mono" name="name" required pattern="[a-z0-9][a-z0-9_\-]{1,62}" autoComplete="off" spellCheck={false} placeholder="hosts-inventory" />
            <p className="field-hint">What a custom source names in its scope: lowercase letters, digits, - and _.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cc-display">
              Display name
            </label>
            <input id="cc-display" className="input" name="display_name" required maxLength={200} autoComplete="off" placeholder="Hosts inventory" />
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="cc-path">
              Executable path
            </label>
            <input id="cc-path" className="input mono" name="executable_path" required pattern="/.+" autoComplete="off" spellCheck={false} placeholder="/opt/cairn-connectors/hosts-inventory" />
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="cc-sha">
              SHA-256 you reviewed <span className="muted">(optional)</span>
            </label>
            <input id="cc-sha" className="input mono" name="sha256" pattern="[0-9a-fA-F]{64}" autoComplete="off" spellCheck={false} placeholder="sha256sum of the file" />
            <p className="field-hint">When given, the file must still hash to it.</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cc-timeout">
              Time budget (seconds)
            </label>
            <input id="cc-timeout" className="input" name="timeout_seconds" type="number" min={1} max={86400} placeholder="900" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="cc-output">
              Output budget (MiB)
            </label>
            <input id="cc-output" className="input" name="max_output_mib" type="number" min={1} max={1024} step="any" placeholder="64" />
          </div>
          <div className="field field-span">
            <label className="field-label" htmlFor="cc-description">
              Description <span className="muted">(optional)</span>
            </label>
            <input id="cc-description" className="input" name="description" maxLength={2000} autoComplete="off" placeholder="Exports the hosts of the CMDB as assets" />
          </div>
          <div className="form-actions field-span">
            <button type="submit" className="button button-primary" disabled={!hydrated || busy} data-testid="add-custom-connector-submit">
              {busy ? "Adding…" : "Allow-list"}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

function ConnectorRow({ c, onRemoved, onError }: { c: CustomConnector; onRemoved: (c: CustomConnector) => void; onError: (message: string) => void }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const [busy, setBusy] = useState(false);
  const status = STATUS[c.executable_status];
  const remove = async () => {
    setBusy(true);
    try {
      await runWithStepUp(() => client.connectors.remove.mutate({ id: c.connector_id }));
      onRemoved(c);
    } catch (err) {
      if (!isStepUpCancelled(err)) onError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="custom-connector-row">
      <td>
        <span className="cell-stack">
          <span className="mono">{c.name}</span>
          <span className="cell-note">{c.display_name}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <span className="mono break-all">{c.executable_path}</span>
          <span className="cell-note mono">
            sha256 {c.sha256.slice(0, 16)}… <CopyButton value={c.sha256} label="Copy hash" />
          </span>
        </span>
      </td>
      <td>
        <StatusBadge tone={status.tone} title={c.executable_detail ?? undefined} testId="custom-connector-status">
          {status.label}
        </StatusBadge>
        {c.executable_detail ? <span className="cell-note">{c.executable_detail}</span> : null}
      </td>
      <td>
        <span className="cell-stack">
          <span>{c.timeout_seconds} s</span>
          <span className="cell-note">{mib(c.max_output_bytes)}</span>
        </span>
      </td>
      <td>
        <span className="cell-stack">
          <UtcTime iso={c.created_at} />
          <span className="cell-note">{c.created_by}</span>
        </span>
      </td>
      <td>
        <ConfirmButton label="Remove" prompt={`Remove ${c.name}? Sources that name it stop running.`} confirmLabel="Remove" onConfirm={() => void remove()} busy={busy} testId="custom-connector-remove" />
      </td>
    </tr>
  );
}

export default function CustomConnectorsPage() {
  const data = useLoaderData<typeof loader>();
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const hydrated = useHydrated();
  const [items, setItems] = useState<CustomConnector[] | null>(data.access === "granted" ? data.items : null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const reveal = async () => {
    setLoading(true);
    setError(null);
    try {
      setItems((await runWithStepUp(() => client.connectors.list.query())).items);
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setLoading(false);
    }
  };

  const description = "Executables that run as connectors for custom sources, with only an allowlisted environment and the job's credentials, under time and output budgets.";
  if (data.access === "denied") {
    return (
      <div className="page" data-testid="page-custom-connectors">
        <PageHeader title="Custom connectors" description={description} />
        <EmptyState icon="connectors" title="Visible to platform owners">
          {data.message} The allow-list names programs on the machines that run every tenant&rsquo;s work, so only platform owners manage it.
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="page" data-testid="page-custom-connectors">
      <PageHeader title="Custom connectors" description={description} />
      {error ? (
        <Notice tone="error" testId="custom-connectors-error">
          {error}
        </Notice>
      ) : null}
      {items === null ? (
        <section className="panel" aria-label="Allow-list">
          <div className="panel-body">
            <p className="layout-text">The allow-list shows executable paths and hashes on the workers&rsquo; machines: viewing it needs a passkey step-up and is audited.</p>
            <button type="button" className="button button-primary" disabled={!hydrated || loading} onClick={() => void reveal()} data-testid="custom-connectors-reveal">
              {loading ? "Loading…" : "Confirm and show the allow-list"}
            </button>
          </div>
        </section>
      ) : items.length === 0 ? (
        <EmptyState icon="connectors" title="No custom connectors yet">
          Allow-list an executable below; tenants can then create sources of kind <code>custom</code> that name it (<code>{'{"connector": "<name>", "input": {…}}'}</code>).
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Allow-list">
          <div className="panel-body">
            <table className="table table-dense" data-testid="custom-connectors-table">
              <thead>
                <tr>
                  <th>Connector</th>
                  <th>Executable</th>
                  <th>On this host</th>
                  <th>Budgets</th>
                  <th>Added</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <ConnectorRow key={c.connector_id} c={c} onRemoved={(r) => setItems((all) => (all ?? []).filter((x) => x.connector_id !== r.connector_id))} onError={setError} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <AddConnector onAdded={(c) => setItems((all) => [...(all ?? []).filter((x) => x.name !== c.name), c].sort((a, b) => a.name.localeCompare(b.name)))} />
    </div>
  );
}
