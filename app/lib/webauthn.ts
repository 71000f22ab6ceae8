// Browser side of the passkey ceremonies: ask the server for options, let the authenticator answer, send the answer back.
// Call these from event handlers or effects only: they touch navigator.credentials, which does not exist on the server.
import { startAuthentication, startRegistration, WebAuthnError } from "@simplewebauthn/browser";
import type { TRPCClient } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";
import { clientFailure } from "./identity";

export type CairnClient = TRPCClient<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>["passkeys"];
export type Passkey = Outputs["list"][number];

/** Registers a new passkey on this device for the signed-in person. */
export async function addPasskey(client: CairnClient, name?: string): Promise<Passkey> {
  const { challenge_id, options } = await client.passkeys.registrationOptions.mutate();
  const response = await startRegistration({ optionsJSON: options });
  return client.passkeys.register.mutate({ challenge_id, name: name?.trim() || undefined, response });
}

/**
 * Signs in with a discoverable passkey (no email needed). On success the server has set the session cookie;
 * the caller navigates on (to the change-password page when `must_change_password` is true).
 */
export async function signInWithPasskey(client: CairnClient): Promise<Outputs["login"]> {
  const { challenge_id, options } = await client.passkeys.loginOptions.mutate();
  const response = await startAuthentication({ optionsJSON: options });
  return client.passkeys.login.mutate({ challenge_id, response });
}

export type StepUpOptions = Outputs["stepUpOptions"];

/** Step-up: a fresh assertion with one of the signed-in person's own passkeys. Pass options fetched earlier to skip a round trip. */
export async function confirmWithPasskey(client: CairnClient, prepared?: StepUpOptions): Promise<Outputs["stepUp"]> {
  const { challenge_id, options } = prepared ?? (await client.passkeys.stepUpOptions.mutate());
  const response = await startAuthentication({ optionsJSON: options });
  return client.passkeys.stepUp.mutate({ challenge_id, response });
}

// ---------- Reading errors ----------

/** True when the server refused because this high-risk action needs a fresh step-up first. */
export function isStepUpRequired(err: unknown): boolean {
  return clientFailure(err).code === "STEP_UP_REQUIRED";
}

/** The server's `details.reason` for a refusal (recent_login_required, no_passkey, ...), if it gave one. */
export function failureReason(err: unknown): string | null {
  const reason = clientFailure(err).details?.reason;
  return typeof reason === "string" ? reason : null;
}

/** A sentence for a failed ceremony, whether the authenticator or the server said no. */
export function describeCeremonyError(err: unknown): string {
  if (err instanceof WebAuthnError) {
    switch (err.code) {
      case "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED":
        return "This device already holds a passkey for your account.";
      case "ERROR_CEREMONY_ABORTED":
        return "The passkey prompt was cancelled.";
      case "ERROR_AUTHENTICATOR_MISSING_DISCOVERABLE_CREDENTIAL_SUPPORT":
        return "This authenticator cannot store a passkey that signs in without an email.";
      case "ERROR_AUTHENTICATOR_MISSING_USER_VERIFICATION_SUPPORT":
        return "This authenticator cannot verify you (PIN or biometrics), which Cairn requires.";
      default:
        break;
    }
  }
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "NotAllowedError" || name === "AbortError") return "The passkey prompt was closed or timed out before it finished.";
  if (name === "NotSupportedError") return "This browser or device does not support passkeys.";
  return clientFailure(err).message;
}
