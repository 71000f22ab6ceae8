// Where the signed-in person is signed in: every session of theirs, this one marked, the others revocable.
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { attempt, load } from "../lib/auth.server";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { SettingsNav } from "../components/settings-nav";
import { StatusBadge } from "../components/status-badge";
import { ConfirmButton } from "../components/confirm-button";
import { Notice } from "../components/notice";
import { UtcTime } from "../components/utc-time";

export const meta: MetaFunction = () => [{ title: pageTitle("Sessions") }];

export async function loader({ context, request }: LoaderFunctionArgs) {
  return { sessions: await load(request, () => context.caller.auth.sessions()) };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const ids = form.getAll("session_id").map(String);
  for (const id of ids) {
    const result = await attempt(request, () => context.caller.auth.revokeSession({ session_id: id }));
    if (!result.ok) return data({ ok: false as const, error: result.failure.message }, { status: result.failure.status });
  }
  return { ok: true as const, revoked: ids.length };
}

const METHOD_LABEL: Record<string, string> = { password: "Password", passkey: "Passkey", oidc: "Single sign-on" };

/** "Chrome on Linux" from a user-agent string; the raw string stays available as a tooltip. */
function describeUserAgent(ua: string | null): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /HeadlessChrome\//.test(ua)
      ? "Headless Chrome"
      : /Chrome\//.test(ua)
        ? "Chrome"
        : /Firefox\//.test(ua)
          ? "Firefox"
          : /Safari\//.test(ua)
            ? "Safari"
            : /^curl\//.test(ua)
              ? "curl"
              : null;
  const os = /Windows/.test(ua) ? "Windows" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /Linux/.test(ua) ? "Linux" : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 40);
}

export default function SessionsPage() {
  const { sessions } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const busy = fetcher.state !== "idle";
  const others = sessions.filter((s) => !s.current);
  const revoke = (ids: string[]) => {
    const body = new FormData();
    for (const id of ids) body.append("session_id", id);
    fetcher.submit(body, { method: "post" });
  };

  return (
    <div className="page" data-testid="page-sessions">
      <PageHeader
        title="Sessions"
        description="Every browser where you are signed in. Revoke one you do not recognise, or that you left signed in elsewhere; it is signed out at its next request."
        actions={
          others.length > 1 ? (
            <ConfirmButton label="Sign out all other sessions" prompt={`Sign out ${others.length} other sessions?`} confirmLabel="Sign them out" busy={busy} onConfirm={() => revoke(others.map((s) => s.session_id))} />
          ) : null
        }
      />
      <SettingsNav />
      {fetcher.data && !fetcher.data.ok ? <Notice tone="error">{fetcher.data.error}</Notice> : null}
      {fetcher.data?.ok && fetcher.state === "idle" ? (
        <Notice tone="success">{fetcher.data.revoked === 1 ? "The session was signed out." : `${fetcher.data.revoked} sessions were signed out.`}</Notice>
      ) : null}
      <section className="panel">
        <div className="table-wrap">
          <table className="table" data-testid="sessions-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Signed in with</th>
                <th scope="col">Address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.session_id} data-testid={s.current ? "session-current" : "session-other"}>
                  <td>
                    <span className="cell-stack">
                      <span className="cell-title nowrap" title={s.user_agent ?? undefined}>
                        {describeUserAgent(s.user_agent)}
                      </span>
                      {s.current ? (
                        <StatusBadge tone="ok" testId="this-session">
                          This session
                        </StatusBadge>
                      ) : null}
                    </span>
                  </td>
                  <td className="nowrap">{METHOD_LABEL[s.auth_method] ?? s.auth_method}</td>
                  <td className="mono">{s.ip ?? <span className="muted">Unknown</span>}</td>
                  <td>
                    <UtcTime iso={s.created_at} />
                  </td>
                  <td>
                    <UtcTime iso={s.last_seen_at} />
                  </td>
                  <td>
                    <UtcTime iso={s.expires_at} />
                  </td>
                  <td className="cell-actions">
                    {s.current ? (
                      <span className="muted">Use Sign out</span>
                    ) : (
                      <ConfirmButton label="Revoke" prompt="Sign this session out?" confirmLabel="Revoke" busy={busy} onConfirm={() => revoke([s.session_id])} testId="revoke-session" />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
