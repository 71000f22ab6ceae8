// Members of the current tenant: who belongs, with which role. Admins add people (new ones get a one-time
// password, shown once), change roles (high-risk: a passkey step-up) and remove members.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { attempt, load } from "../lib/auth.server";
import { clientFailure, currentMembership, ROLE_SUMMARY, roleLabel, TENANT_ROLES, useMe } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { isStepUpCancelled, useStepUp } from "../lib/use-step-up";
import { PageHeader } from "../components/page-header";
import { SettingsNav } from "../components/settings-nav";
import { StatusBadge } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { Notice } from "../components/notice";
import { SecretReveal } from "../components/secret-reveal";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Members") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return { members: (await load(request, () => context.caller.members.list())).items };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const intent = form.get("intent");
  if (intent === "remove") {
    const result = await attempt(request, () => context.caller.members.remove({ user_id: String(form.get("user_id") ?? "") }));
    if (!result.ok) return data({ intent, ok: false as const, error: result.failure.message }, { status: result.failure.status });
    return { intent, ok: true as const, removed: String(form.get("email") ?? "") };
  }
  const name = String(form.get("name") ?? "").trim();
  const input = { email: String(form.get("email") ?? "").trim(), role: String(form.get("role") ?? "") as (typeof TENANT_ROLES)[number], ...(name ? { name } : {}) };
  const result = await attempt(request, () => context.caller.members.add(input));
  if (!result.ok) return data({ intent: "add" as const, ok: false as const, error: result.failure.message }, { status: result.failure.status });
  return { intent: "add" as const, ok: true as const, added: result.value };
}

type Member = Awaited<ReturnType<typeof loader>>["members"][number];

function AddMember() {
  const fetcher = useFetcher<typeof action>();
  const formRef = useRef<HTMLFormElement>(null);
  const result = fetcher.data?.intent === "add" ? fetcher.data : null;
  const added = result?.ok ? result.added : null;

  useEffect(() => {
    if (fetcher.state === "idle" && added) formRef.current?.reset();
  }, [fetcher.state, added]);

  return (
    <section className="panel" aria-labelledby="add-member-title" data-testid="add-member">
      <header className="panel-header">
        <div>
          <h2 className="panel-title" id="add-member-title">
            Add a member
          </h2>
          <p className="panel-subtitle">Someone new to Cairn gets an account with a one-time password; someone who already has one just joins this tenant.</p>
        </div>
      </header>
      <div className="panel-body">
        <fetcher.Form method="post" className="form-row" ref={formRef}>
          <input type="hidden" name="intent" value="add" />
          <div className="field field-grow">
            <label className="field-label" htmlFor="member-email">
              Email
            </label>
            <input id="member-email" className="input" type="email" name="email" required autoComplete="off" />
          </div>
          <div className="field field-grow">
            <label className="field-label" htmlFor="member-name">
              Name <span className="muted">(optional)</span>
            </label>
            <input id="member-name" className="input" type="text" name="name" maxLength={200} autoComplete="off" />
          </div>
          <div className="field">
            <label className="field-label" htmlFor="member-role">
              Role
            </label>
            <select id="member-role" className="input" name="role" defaultValue="viewer">
              {TENANT_ROLES.map((role) => (
                <option key={role} value={role}>
                  {roleLabel(role)}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-action">
            <button type="submit" className="button button-primary" disabled={fetcher.state !== "idle"}>
              Add member
            </button>
          </div>
        </fetcher.Form>
        {result && !result.ok ? (
          <Notice tone="error" testId="add-member-error">
            {result.error}
          </Notice>
        ) : null}
        {added?.one_time_password ? (
          <SecretReveal title={`One-time password for ${added.email}`} secret={added.one_time_password} testId="one-time-password">
            Give it to them over a channel you trust. It signs them in once, then they must choose their own password. Cairn keeps only a hash of it and cannot
            show it again.
          </SecretReveal>
        ) : added ? (
          <Notice tone="success" testId="member-added">
            {added.email} already had a Cairn account and is now a member of this tenant as {roleLabel(added.role)}. They sign in as they always do.
          </Notice>
        ) : null}
      </div>
    </section>
  );
}

/** The role of one member; a change is high-risk, so it goes through the browser client and a passkey step-up. */
function RoleCell({ member, editable }: { member: Member; editable: boolean }) {
  const client = useTRPCClient();
  const { runWithStepUp } = useStepUp();
  const revalidator = useRevalidator();
  const [shown, setShown] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Fresh data from the server replaces what was shown meanwhile.
  useEffect(() => setShown(null), [member.role]);

  if (!editable) return <span className="badge">{roleLabel(member.role)}</span>;

  const change = async (role: Member["role"]) => {
    setShown(role);
    setBusy(true);
    setError(null);
    try {
      await runWithStepUp(() => client.members.changeRole.mutate({ user_id: member.user_id, role }));
      revalidator.revalidate();
    } catch (err) {
      setShown(null);
      if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <span className="cell-stack">
      <select
        className="input input-compact"
        aria-label={`Role of ${member.email}`}
        value={shown ?? member.role}
        disabled={busy}
        onChange={(e) => void change(e.target.value as Member["role"])}
        data-testid="member-role"
      >
        {TENANT_ROLES.map((role) => (
          <option key={role} value={role} title={ROLE_SUMMARY[role]}>
            {roleLabel(role)}
          </option>
        ))}
      </select>
      {error ? (
        <span className="error-text cell-note" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

export default function MembersPage() {
  const { members } = useLoaderData<typeof loader>();
  const me = useMe();
  const isAdmin = currentMembership(me)?.role === "admin";
  const remover = useFetcher<typeof action>();
  const removal = remover.data?.intent === "remove" ? remover.data : null;

  return (
    <div className="page" data-testid="page-members">
      <PageHeader title="Members" description="People who can sign in to this tenant, and what their role lets them do. Role changes need a passkey confirmation." />
      <SettingsNav />
      {isAdmin ? <AddMember /> : null}
      {removal && !removal.ok ? <Notice tone="error">{removal.error}</Notice> : null}
      {removal?.ok && remover.state === "idle" ? <Notice tone="success">{removal.removed || "The member"} was removed from this tenant.</Notice> : null}
      <section className="panel">
        <header className="panel-header">
          <div>
            <h2 className="panel-title">
              {members.length} {members.length === 1 ? "member" : "members"}
            </h2>
            {!isAdmin ? <p className="panel-subtitle">Only admins add, change or remove members.</p> : null}
          </div>
        </header>
        <div className="table-wrap">
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Added</th>
                {isAdmin ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.user_id} data-testid="member-row" data-email={m.email}>
                  <td>
                    <span className="cell-stack">
                      <span className="cell-title">
                        {m.name || m.email}
                        {m.user_id === me?.user_id ? <span className="badge badge-accent badge-inline">You</span> : null}
                      </span>
                      {m.name ? <span className="cell-note">{m.email}</span> : null}
                    </span>
                  </td>
                  <td>
                    <RoleCell member={m} editable={isAdmin} />
                  </td>
                  <td>
                    {m.must_change_password ? (
                      <StatusBadge tone="warn" title="Has not yet replaced the one-time password">
                        Invited
                      </StatusBadge>
                    ) : (
                      <StatusBadge tone="ok">Active</StatusBadge>
                    )}
                  </td>
                  <td>
                    <UtcTime iso={m.created_at} />
                  </td>
                  {isAdmin ? (
                    <td className="cell-actions">
                      <ConfirmButton
                        label="Remove"
                        prompt={`Remove ${m.email}?`}
                        confirmLabel="Remove"
                        busy={remover.state !== "idle"}
                        testId="remove-member"
                        onConfirm={() => remover.submit({ intent: "remove", user_id: m.user_id, email: m.email }, { method: "post" })}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
