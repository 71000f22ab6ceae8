// Sign in: email and password (a Remix action through auth.login), a passkey, or the configured OIDC provider.
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigate, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { passwordRedirect, procedureFailure } from "../lib/auth.server";
import { clientFailure, nextParam, rateLimitMessage, safeNext, useMe } from "../lib/identity";
import { pageTitle } from "../lib/sections";
import { useTRPCClient } from "../lib/trpc";
import { describeCeremonyError, signInWithPasskey } from "../lib/webauthn";
import { useHydrated } from "../lib/use-hydrated";
import type { ShellHandle } from "../components/app-shell";
import { CairnMark, FingerprintIcon } from "../components/icons";
import { Notice } from "../components/notice";

export const handle: ShellHandle = { standalone: true };

export const meta: MetaFunction = () => [{ title: pageTitle("Sign in") }];

/** Why an OIDC sign-in came back to this page (see server/http/oidc-routes.ts). */
const OIDC_ERRORS: Record<string, string> = {
  oidc_state: "That single sign-on attempt expired or was started in another browser. Start again.",
  oidc_issuer: "The sign-in response did not come from the configured identity provider, so Cairn refused it.",
  oidc_no_account: "There is no Cairn account for that identity yet. Ask a tenant admin to add you.",
  oidc_email_unverified: "Your identity provider has not verified your email address. Verify it there, then sign in again.",
  oidc_disabled: "This Cairn account is disabled.",
  oidc_unavailable: "Single sign-on is unavailable: the identity provider could not be reached. Try again later or use your password.",
  oidc_failed: "Single sign-on did not complete. Try again.",
};

/** Where to go after signing in: the requested page, never the sign-in page itself. */
const continueTo = (value: unknown) => {
  const next = safeNext(value);
  return next.startsWith("/login") ? "/" : next;
};

export async function loader({ context, request }: LoaderFunctionArgs) {
  const url = new URL(request.url);
  const error = url.searchParams.get("error");
  return {
    methods: await context.caller.auth.methods(),
    next: continueTo(url.searchParams.get("next")),
    oidcError: error?.startsWith("oidc_") ? (OIDC_ERRORS[error] ?? OIDC_ERRORS.oidc_failed) : null,
  };
}

export async function action({ context, request }: ActionFunctionArgs) {
  const form = await request.formData();
  const email = String(form.get("email") ?? "");
  const next = continueTo(form.get("next"));
  let mustChange: boolean;
  try {
    ({ must_change_password: mustChange } = await context.caller.auth.login({ email, password: String(form.get("password") ?? "") }));
  } catch (err) {
    const failure = procedureFailure(err);
    if (failure.code === "INTERNAL") throw err;
    const error =
      failure.code === "RATE_LIMITED" ? rateLimitMessage(failure.details) : failure.code === "UNAUTHENTICATED" ? "Email or password is incorrect. Check both and try again." : failure.message;
    return data({ error, email }, { status: failure.status });
  }
  // The session cookie is already on this response (set by auth.login).
  return mustChange ? passwordRedirect(next) : redirect(next);
}

export default function LoginPage() {
  const { methods, next, oidcError } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const navigate = useNavigate();
  const client = useTRPCClient();
  const hydrated = useHydrated();
  const me = useMe();
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const submitting = navigation.state !== "idle" && navigation.formData !== undefined;

  const signInWithPasskeyNow = async () => {
    setPasskeyError(null);
    setPasskeyBusy(true);
    try {
      const result = await signInWithPasskey(client);
      navigate(result.must_change_password ? `/account/password?${nextParam(next)}` : next);
    } catch (err) {
      const failure = clientFailure(err);
      setPasskeyError(failure.code === "RATE_LIMITED" ? rateLimitMessage(failure.details) : describeCeremonyError(err));
    } finally {
      setPasskeyBusy(false);
    }
  };

  const error = actionData?.error ?? passkeyError ?? oidcError;

  return (
    <div className="auth-card" data-testid="page-login">
      <div className="auth-brand">
        <CairnMark size={40} />
        <span className="auth-brand-name">Cairn</span>
      </div>
      <h1 className="auth-title">Sign in</h1>
      <p className="auth-subtitle">Security collection and node fabric, in your own infrastructure.</p>

      {me && !error ? (
        <Notice tone="info" testId="already-signed-in">
          You are signed in as {me.email}. <Link to={next}>Continue to Cairn</Link>, or sign in below as someone else.
        </Notice>
      ) : null}

      {error ? (
        <Notice tone="error" testId="login-error">
          {error}
        </Notice>
      ) : null}

      <Form method="post" className="form-stack" aria-busy={submitting}>
        <input type="hidden" name="next" value={next} />
        <div className="field">
          <label className="field-label" htmlFor="login-email">
            Email
          </label>
          <input id="login-email" className="input" type="email" name="email" autoComplete="username webauthn" required defaultValue={actionData?.email} />
        </div>
        <div className="field">
          <label className="field-label" htmlFor="login-password">
            Password
          </label>
          <input id="login-password" className="input" type="password" name="password" autoComplete="current-password" required />
        </div>
        <button type="submit" className="button button-primary button-block button-large" disabled={submitting}>
          Sign in
        </button>
      </Form>

      {methods.passkey || methods.oidc.enabled ? (
        <>
          <div className="auth-divider">
            <span>or</span>
          </div>
          <div className="form-stack form-stack-tight">
            {methods.passkey ? (
              <button type="button" className="button button-block button-large" data-testid="passkey-login" onClick={signInWithPasskeyNow} disabled={!hydrated || passkeyBusy}>
                <FingerprintIcon />
                {passkeyBusy ? "Waiting for your passkey…" : "Sign in with a passkey"}
              </button>
            ) : null}
            {methods.oidc.enabled ? (
              <a className="button button-block button-large" data-testid="oidc-login" href={next === "/" ? "/auth/oidc/start" : `/auth/oidc/start?return_to=${encodeURIComponent(next)}`}>
                Continue with {methods.oidc.label}
              </a>
            ) : null}
          </div>
        </>
      ) : null}

      <p className="auth-footnote">New to Cairn? A tenant admin adds you and hands you a one-time password.</p>
    </div>
  );
}
