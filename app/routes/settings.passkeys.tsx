// Settings → Passkeys: the signed-in person's passkeys (sign-in without a password, and step-up for high-risk actions).
// The WebAuthn ceremonies run in the browser, so changes go through the tRPC client rather than a Remix action.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { browserSupportsWebAuthn } from "@simplewebauthn/browser";
import { PageHeader } from "../components/page-header";
import { SettingsNav } from "../components/settings-nav";
import { Notice } from "../components/notice";
import { ConfirmButton } from "../components/confirm-button";
import { load } from "../lib/auth.server";
import { formatUtc } from "../lib/format";
import { clientFailure } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { useTRPC, useTRPCClient } from "../lib/trpc";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { addPasskey, describeCeremonyError, failureReason, type Passkey } from "../lib/webauthn";

export const meta: MetaFunction = () => [{ title: pageTitle("Passkeys") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return { passkeys: await load(request, () => context.caller.passkeys.list()), loadedAt: Date.now() };
}

const RECENT_LOGIN_MESSAGE = "Sign in again to add a passkey: for your safety, adding one needs a sign-in from the last 10 minutes.";

export default function PasskeysPage() {
  const data = useLoaderData<typeof loader>();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.passkeys.list.queryOptions(undefined, { initialData: data.passkeys, initialDataUpdatedAt: data.loadedAt }));
  const passkeys = list.data;
  const [done, setDone] = useState<string | null>(null);

  const changed = useCallback(
    (message: string) => {
      setDone(message);
      return queryClient.invalidateQueries({ queryKey: trpc.passkeys.list.queryKey() });
    },
    [queryClient, trpc],
  );

  return (
    <div className="page" data-testid="page-passkeys">
      <PageHeader
        title="Passkeys"
        description="A passkey signs you in without a password and confirms it's you before high-risk actions. It stays on your device or in your password manager; Cairn keeps only its public key."
      />
      <SettingsNav />
      {done ? (
        <Notice tone="success" testId="passkeys-notice">
          {done}
        </Notice>
      ) : null}
      <AddPasskey existing={passkeys.length} onAdded={(p) => changed(`Added “${p.name}”.`)} />
      <section className="panel" aria-labelledby="passkey-list-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="passkey-list-title">
              Your passkeys
            </h2>
            <p className="panel-subtitle" data-testid="passkey-count">
              {passkeys.length === 1 ? "1 passkey" : `${passkeys.length} passkeys`}
            </p>
          </div>
        </header>
        {passkeys.length === 0 ? (
          <div className="panel-body">
            <p className="muted" data-testid="passkeys-empty">
              No passkeys yet. Add one above to sign in without a password and to confirm high-risk actions.
            </p>
          </div>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="passkey-list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Added</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Kind</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {passkeys.map((p) => (
                  <PasskeyRow key={p.id} passkey={p} isLast={passkeys.length === 1} onChanged={changed} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function AddPasskey({ existing, onAdded }: { existing: number; onAdded: (p: Passkey) => void }) {
  const client = useTRPCClient();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Unknown until hydrated: the server cannot tell what the browser supports.
  const [supported, setSupported] = useState<boolean | null>(null);
  useEffect(() => setSupported(browserSupportsWebAuthn()), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await addPasskey(client, name);
      setName("");
      onAdded(created);
    } catch (err) {
      setError(failureReason(err) === "recent_login_required" ? RECENT_LOGIN_MESSAGE : describeCeremonyError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="add-passkey-title">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="add-passkey-title">
            Add a passkey
          </h2>
          <p className="panel-subtitle">Your browser asks this device, a security key or your password manager to create one.</p>
        </div>
      </header>
      <div className="panel-body">
        <form className="form-row" onSubmit={(e) => void submit(e)}>
          <div className="field field-grow">
            <label className="field-label" htmlFor="new-passkey-name">
              Name <span className="muted">(optional)</span>
            </label>
            <input
              id="new-passkey-name"
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={64}
              placeholder={`Passkey ${existing + 1}`}
              autoComplete="off"
              data-testid="new-passkey-name"
            />
          </div>
          <div className="field field-action">
            <button type="submit" className="button button-primary" disabled={busy || supported === false} aria-busy={busy} data-testid="add-passkey">
              {busy ? "Waiting for your device…" : "Add a passkey"}
            </button>
          </div>
        </form>
        {supported === false ? (
          <Notice tone="warn" testId="passkeys-unsupported">
            This browser does not support passkeys.
          </Notice>
        ) : null}
        {error ? (
          <Notice tone="error" testId="add-passkey-error">
            {error}
          </Notice>
        ) : null}
      </div>
    </section>
  );
}

function kindOf(p: Passkey): { label: string; hint: string } {
  if (p.device_type === "multiDevice") {
    return { label: p.backed_up ? "Synced" : "Syncable", hint: "Kept by a password manager or platform account, available on your other devices" };
  }
  return { label: "Single device", hint: "Lives only on the device or security key that created it" };
}

function PasskeyRow({ passkey, isLast, onChanged }: { passkey: Passkey; isLast: boolean; onChanged: (message: string) => Promise<unknown> }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState(passkey.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const kind = kindOf(passkey);

  async function rename(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const renamed = await client.passkeys.rename.mutate({ id: passkey.id, name: draft });
      setRenaming(false);
      await onChanged(`Renamed to “${renamed.name}”.`);
    } catch (err) {
      setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      // Removing the last passkey is high-risk: the server asks for a step-up, and runWithStepUp retries after it.
      await runWithStepUp(() => client.passkeys.remove.mutate({ id: passkey.id }));
      await onChanged(`Removed “${passkey.name}”.`);
    } catch (err) {
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr data-testid="passkey-row" data-passkey-id={passkey.id}>
      <td>
        {renaming ? (
          <form className="inline-group" onSubmit={(e) => void rename(e)}>
            <input
              className="input input-compact"
              aria-label={`New name for ${passkey.name}`}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              maxLength={64}
              required
              autoFocus
              data-testid="passkey-rename-input"
            />
            <button type="submit" className="button button-small button-primary" disabled={busy || !draft.trim()} data-testid="passkey-rename-save">
              Save
            </button>
            <button type="button" className="button button-small" onClick={() => setRenaming(false)} disabled={busy}>
              Cancel
            </button>
          </form>
        ) : (
          <span className="cell-stack">
            <span className="cell-title" data-testid="passkey-name">
              {passkey.name}
            </span>
            {isLast ? <span className="cell-note">Your only passkey: removing it asks you to confirm it&rsquo;s you</span> : null}
          </span>
        )}
        {error ? (
          <p className="error-text cell-note" role="alert" data-testid="passkey-row-error">
            {error}
          </p>
        ) : null}
      </td>
      <td className="nowrap" data-testid="passkey-created">
        {formatUtc(passkey.created_at)}
      </td>
      <td className="nowrap" data-testid="passkey-last-used">
        {passkey.last_used_at ? formatUtc(passkey.last_used_at) : <span className="muted">Never</span>}
      </td>
      <td title={kind.hint}>{kind.label}</td>
      <td className="cell-actions">
        {renaming ? null : (
          <span className="inline-group">
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setDraft(passkey.name);
                setError(null);
                setRenaming(true);
              }}
              disabled={busy}
              data-testid="passkey-rename"
            >
              Rename
            </button>
            <ConfirmButton label="Remove" prompt={`Remove “${passkey.name}”?`} confirmLabel="Remove passkey" busy={busy} onConfirm={() => void remove()} testId="passkey-remove" />
          </span>
        )}
      </td>
    </tr>
  );
}
