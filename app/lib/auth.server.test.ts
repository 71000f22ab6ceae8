import { describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { AppLoadContext } from "@remix-run/node";
// The bridge is tested against the errors the server really throws (this file runs in Node, never in the browser).
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { AppError } from "../../server/errors.ts";
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { trpcErrorFrom } from "../../server/trpc/init.ts";
import { attempt, load, procedureFailure, requireMe, returnPath, shellIdentity } from "./auth.server";
import { safeNext } from "./identity";
import type { Me } from "./identity";

const me = (over: Partial<Me> = {}): Me => ({
  user_id: "u1",
  email: "ada@example.com",
  name: "Ada",
  is_platform_owner: false,
  must_change_password: false,
  auth_method: "password",
  authenticated_at: new Date(0).toISOString(),
  step_up_at: null,
  current_tenant_id: "t1",
  memberships: [{ tenant_id: "t1", slug: "acme", name: "Acme", role: "admin" }],
  ...over,
});

/** A load context whose caller answers auth.me with a person, or fails as the server would. */
function contextWith(answer: Me | AppError): AppLoadContext {
  const meProc = () => (answer instanceof AppError ? Promise.reject(trpcErrorFrom(answer)) : Promise.resolve(answer));
  return { requestId: "req-1", cspNonce: "n", caller: { auth: { me: meProc } } } as unknown as AppLoadContext;
}

async function thrownBy(p: Promise<unknown>): Promise<Response> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Response) return err;
    throw err;
  }
  throw new Error("expected a thrown Response");
}

describe("procedureFailure", () => {
  it("reads the AppError behind a tRPC error, with its HTTP status and details", () => {
    const f = procedureFailure(trpcErrorFrom(new AppError("RATE_LIMITED", "slow down", { retry_after_seconds: 7 })));
    expect(f).toEqual({ code: "RATE_LIMITED", message: "slow down", details: { retry_after_seconds: 7 }, status: 429 });
  });

  it("turns bad input into one readable sentence", () => {
    const parsed = z.object({ email: z.string().min(3, "enter your email") }).safeParse({ email: "" });
    const f = procedureFailure(new TRPCError({ code: "BAD_REQUEST", cause: parsed.error }));
    expect(f).toMatchObject({ code: "INVALID_INPUT", message: "email: enter your email", status: 400 });
  });

  it("never repeats the message of an unexpected error", () => {
    expect(procedureFailure(new Error("connection string with a password"))).toMatchObject({ code: "INTERNAL", message: "Internal error", status: 500 });
  });
});

describe("the sign-in gate", () => {
  it("sends someone signed out to sign in, remembering the page and its query", async () => {
    const res = await thrownBy(requireMe(contextWith(new AppError("UNAUTHENTICATED", "Sign in")), new Request("http://cairn.test/settings/members?tab=2")));
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/login?next=/settings/members%3Ftab%3D2");
  });

  it("sends someone with a one-time password to change it first", async () => {
    const res = await thrownBy(requireMe(contextWith(me({ must_change_password: true })), new Request("http://cairn.test/settings")));
    expect(res.headers.get("Location")).toBe("/account/password?next=/settings");
  });

  it("lets the sign-in page through without anyone, and the password page through with a one-time password", async () => {
    await expect(shellIdentity(contextWith(new AppError("UNAUTHENTICATED", "Sign in")), new Request("http://cairn.test/login?next=/"))).resolves.toBeNull();
    await expect(shellIdentity(contextWith(me({ must_change_password: true })), new Request("http://cairn.test/account/password"))).resolves.toMatchObject({ email: "ada@example.com" });
    const res = await thrownBy(shellIdentity(contextWith(new AppError("UNAUTHENTICATED", "Sign in")), new Request("http://cairn.test/")));
    expect(res.headers.get("Location")).toBe("/login?next=/");
  });

  it("drops Remix's own parameters from the page to come back to", () => {
    expect(returnPath(new Request("http://cairn.test/settings?index&_routes=root,routes/settings._index"))).toBe("/settings");
  });
});

describe("procedure calls from loaders and actions", () => {
  it("shows a refusal as an error page with the server's message", async () => {
    const res = await thrownBy(load(new Request("http://cairn.test/settings/api-keys"), () => Promise.reject(trpcErrorFrom(new AppError("FORBIDDEN", "Your role (viewer) does not allow read:api_key")))));
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("Your role (viewer) does not allow read:api_key");
  });

  it("hands a fixable failure back to the form", async () => {
    const result = await attempt(new Request("http://cairn.test/settings/members"), () => Promise.reject(trpcErrorFrom(new AppError("CONFLICT", "ada@example.com is already a member"))));
    expect(result).toEqual({ ok: false, failure: { code: "CONFLICT", message: "ada@example.com is already a member", details: null, status: 409 } });
  });
});

describe("safeNext", () => {
  it("keeps paths inside Cairn and refuses everything else", () => {
    expect(safeNext("/settings/members?x=1")).toBe("/settings/members?x=1");
    for (const hostile of ["https://evil.example", "//evil.example", "/\\evil.example", "settings", "/\u0000x", null]) expect(safeNext(hostile)).toBe("/");
  });
});
