// The signed-in person's password. Someone holding a one-time password lands here first and cannot go on until
// they have chosen their own; anyone else can change theirs at any time.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { attempt, requireMe } from "../lib/auth.server";
import { safeNext } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { PageHeader } from "../components/page-header";
import { Notice } from "../components/notice";
import { CairnMark } from "../components/icons";

export const meta: MetaFunction = () => [{ title: pageTitle("Account") }];

const MIN_LENGTH = 12;

export async function loader({ context, request }: LoaderFunctionArgs) {
  const me = await requireMe(context, request, { allowPasswordChange: true });
  return { forced: me.must_change_password, email: me.email, next: safeNext(new URL(request.url).searchParams.get("next")) };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const me = await requireMe(context, request, { allowPasswordChange: true });
  const form = await request.formData();
  const newPassword = String(form.get("new_password") ?? "");
  if (newPassword !== String(form.get("repeat_password") ?? "")) {
    return data({ ok: false as const, error: "The two new passwords do not match: type the same password twice." }, { status: 400 });
  }
  const result = await attempt(request, () => context.caller.auth.changePassword({ current_password: String(form.get("current_password") ?? ""), new_password: newPassword }));
  if (!result.ok) return data({ ok: false as const, error: result.failure.message }, { status: result.failure.status });
  // A first password unlocks the rest of Cairn: carry on to where the person was going.
  if (me.must_change_password) return redirect(safeNext(form.get("next")));
  return { ok: true as const, otherSessionsEnded: result.value.other_sessions_ended };
}

function PasswordForm({ forced, next }: { forced: boolean; next: string }) {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const submitting = navigation.state !== "idle" && navigation.formData !== undefined;
  const formRef = useRef<HTMLFormElement>(null);

  // Passwords do not linger in the fields once they have been changed.
  useEffect(() => {
    if (actionData?.ok) formRef.current?.reset();
  }, [actionData]);

  return (
    <>
      {actionData && !actionData.ok ? (
        <Notice tone="error" testId="password-error">
          {actionData.error}
        </Notice>
      ) : null}
      {actionData?.ok ? (
        <Notice tone="success" testId="password-changed">
          Password changed.{" "}
          {actionData.otherSessionsEnded > 0
            ? `${actionData.otherSessionsEnded} other ${actionData.otherSessionsEnded === 1 ? "session was" : "sessions were"} signed out.`
            : "No other sessions were signed in."}
        </Notice>
      ) : null}
      <Form method="post" className="form-stack" aria-busy={submitting} ref={formRef}>
        <input type="hidden" name="next" value={next} />
        <div className="field">
          <label className="field-label" htmlFor="current-password">
            Current password
          </label>
          <input id="current-password" className="input" type="password" name="current_password" autoComplete="current-password" required />
          {forced ? <p className="field-hint">The one-time password you were given.</p> : null}
        </div>
        <div className="field">
          <label className="field-label" htmlFor="new-password">
            New password
          </label>
          <input id="new-password" className="input" type="password" name="new_password" autoComplete="new-password" required aria-describedby="new-password-hint" />
          <p className="field-hint" id="new-password-hint">
            At least {MIN_LENGTH} characters. A passphrase of a few unrelated words works well.
          </p>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="repeat-password">
            Repeat new password
          </label>
          <input id="repeat-password" className="input" type="password" name="repeat_password" autoComplete="new-password" required />
        </div>
        <div className="form-actions">
          <button type="submit" className={forced ? "button button-primary button-block button-large" : "button button-primary"} disabled={submitting}>
            Change password
          </button>
        </div>
      </Form>
    </>
  );
}

export default function AccountPasswordPage() {
  const { forced, email, next } = useLoaderData<typeof loader>();

  if (forced) {
    return (
      <div className="auth-card" data-testid="page-password">
        <div className="auth-brand">
          <CairnMark size={40} />
          <span className="auth-brand-name">Cairn</span>
        </div>
        <h1 className="auth-title">Choose your password</h1>
        <p className="auth-subtitle">
          You signed in as <strong>{email}</strong> with a one-time password. It stops working once you have chosen your own, and Cairn opens only after you
          do. Any other sessions of yours are signed out.
        </p>
        <PasswordForm forced next={next} />
        <Form method="post" action="/logout" className="auth-footnote">
          <button type="submit" className="link-button">
            Sign out instead
          </button>
        </Form>
      </div>
    );
  }

  return (
    <div className="page" data-testid="page-password">
      <PageHeader title="Account" description={<>Signed in as {email}.</>} />
      <section className="panel panel-narrow" aria-labelledby="change-password-title">
        <header className="panel-header">
          <div>
            <h2 className="panel-title" id="change-password-title">
              Password
            </h2>
            <p className="panel-subtitle">Changing it signs out your other sessions; this one stays signed in.</p>
          </div>
        </header>
        <div className="panel-body">
          <PasswordForm forced={false} next={next} />
        </div>
      </section>
      <p className="muted">
        Sign in without a password, and confirm high-risk actions, with a <Link to="/settings/passkeys">passkey</Link>. See where you are signed in under{" "}
        <Link to="/settings/sessions">Sessions</Link>.
      </p>
    </div>
  );
}
