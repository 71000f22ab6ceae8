// Passkeys: registration and management of one's own passkeys, passkey sign-in, and the WebAuthn step-up.
// Browser-only ceremonies (a WebAuthn authenticator answers them), so no REST mapping.
import { z } from "zod";
import type {
  AuthenticationExtensionsClientOutputs,
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { publicProcedure, requireStepUp, router, selfProcedure } from "../init.ts";
import { chargeAddress } from "../../domain/auth/rate-limit.ts";
import type { TrpcContext } from "../context.ts";
import { listPasskeys, passkeyRegistrationOptions, registerPasskey, removePasskey, renamePasskey, type PasskeySummary, type SelfCaller } from "../../domain/auth/passkey.service.ts";
import { completeStepUp, loginWithPasskey, passkeyLoginOptions, stepUpOptions } from "../../domain/auth/passkey-auth.service.ts";
import { sessionCookie, type SessionRow, type UserRow } from "../../domain/auth/session.service.ts";

// WebAuthn payloads are base64url; the bounds keep a hostile body from reaching the verifier at any size.
const b64url = (max: number) => z.string().max(max).regex(/^[A-Za-z0-9_-]*$/, "must be base64url");
const credentialId = b64url(1400).min(1);
const attachment = z.enum(["platform", "cross-platform"]).optional();
// Extension outputs are not used to verify anything; only their shape is checked.
const extensionResults = z.custom<AuthenticationExtensionsClientOutputs>((v) => typeof v === "object" && v !== null && !Array.isArray(v), "must be an object");

const registrationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
  response: z.object({
    clientDataJSON: b64url(8192),
    attestationObject: b64url(32768),
    authenticatorData: b64url(32768).optional(),
    transports: z.array(z.string().max(32)).max(16).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8192).optional(),
  }),
});

const authenticationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
  response: z.object({
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(8192),
    signature: b64url(2048),
    userHandle: b64url(256).optional(),
  }),
});

const challengeId = z.string().min(1, "start the ceremony again").max(64);
const passkeyName = z.string().trim().min(1, "must not be empty").max(64, "must be at most 64 characters");

const creationOptions = z.custom<PublicKeyCredentialCreationOptionsJSON>((v) => typeof v === "object" && v !== null);
const requestOptions = z.custom<PublicKeyCredentialRequestOptionsJSON>((v) => typeof v === "object" && v !== null);

const passkeyOutput = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  device_type: z.string(),
  backed_up: z.boolean(),
  transports: z.array(z.string()),
});

function present(p: PasskeySummary): z.infer<typeof passkeyOutput> {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt.toISOString(),
    last_used_at: p.lastUsedAt?.toISOString() ?? null,
    device_type: p.deviceType,
    backed_up: p.backedUp,
    transports: p.transports,
  };
}

function selfCaller(ctx: TrpcContext & { user: UserRow; session: SessionRow; audit: SelfCaller["audit"] }): SelfCaller {
  return { rt: ctx.rt, user: ctx.user, session: ctx.session, audit: ctx.audit };
}

const secureCookies = (publicUrl: string) => publicUrl.startsWith("https://");

export const passkeyRouter = router({
  list: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(z.array(passkeyOutput))
    .query(async ({ ctx }) => (await listPasskeys(ctx.rt.db, ctx.user.id)).map(present)),

  registrationOptions: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(z.object({ challenge_id: z.string(), options: creationOptions }))
    .mutation(async ({ ctx }) => {
      const { challengeId, options } = await passkeyRegistrationOptions(selfCaller(ctx));
      return { challenge_id: challengeId, options };
    }),

  register: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ challenge_id: challengeId, name: passkeyName.optional(), response: registrationResponse }).strict())
    .output(passkeyOutput)
    .mutation(async ({ ctx, input }) => {
      const created = await registerPasskey(selfCaller(ctx), {
        challengeId: input.challenge_id,
        name: input.name,
        response: input.response as RegistrationResponseJSON,
      });
      return present(created);
    }),

  rename: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ id: z.uuid("must be a passkey id"), name: passkeyName }).strict())
    .output(passkeyOutput)
    .mutation(async ({ ctx, input }) => present(await renamePasskey(selfCaller(ctx), input.id, input.name))),

  remove: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ id: z.uuid("must be a passkey id") }).strict())
    .output(z.object({ id: z.string(), was_last: z.boolean() }))
    .mutation(async ({ ctx, input, path }) => {
      // Removing the last passkey is high-risk; any other is not.
      const removed = await removePasskey(selfCaller(ctx), input.id, () => requireStepUp(ctx, ctx.session.tenantId, path));
      return { id: removed.id, was_last: removed.wasLast };
    }),

  loginOptions: publicProcedure
    .meta({ permission: "public" })
    .input(z.void())
    .output(z.object({ challenge_id: z.string(), options: requestOptions }))
    .mutation(async ({ ctx }) => {
      // Unauthenticated and it stores a challenge: bounded per client address.
      await chargeAddress(ctx.rt.db.sql, "passkey_login_options", ctx.ip, 60);
      const { challengeId, options } = await passkeyLoginOptions(ctx.rt);
      return { challenge_id: challengeId, options };
    }),

  login: publicProcedure
    .meta({ permission: "public" })
    .input(z.object({ challenge_id: challengeId, response: authenticationResponse }).strict())
    .output(z.object({ must_change_password: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const created = await loginWithPasskey(ctx.rt, {
        challengeId: input.challenge_id,
        response: input.response as AuthenticationResponseJSON,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        requestId: ctx.requestId,
      });
      ctx.setCookie(sessionCookie(created.token, created.session.expiresAt, secureCookies(ctx.rt.env.publicUrl)));
      return { must_change_password: created.mustChangePassword };
    }),

  stepUpOptions: selfProcedure
    .meta({ permission: "self" })
    .input(z.void())
    .output(z.object({ challenge_id: z.string(), options: requestOptions }))
    .mutation(async ({ ctx }) => {
      const { challengeId, options } = await stepUpOptions(selfCaller(ctx));
      return { challenge_id: challengeId, options };
    }),

  stepUp: selfProcedure
    .meta({ permission: "self" })
    .input(z.object({ challenge_id: challengeId, response: authenticationResponse }).strict())
    .output(z.object({ step_up_at: z.string(), window_seconds: z.number() }))
    .mutation(async ({ ctx, input }) => {
      const { stepUpAt } = await completeStepUp(selfCaller(ctx), { challengeId: input.challenge_id, response: input.response as AuthenticationResponseJSON });
      return { step_up_at: stepUpAt.toISOString(), window_seconds: ctx.rt.env.CAIRN_STEP_UP_WINDOW_SECONDS };
    }),
});
