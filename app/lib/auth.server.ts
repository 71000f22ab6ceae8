// The gate for Remix loaders and actions: who is signed in, where to send those who are not, and procedure
// failures turned into what a person should see (a sign-in redirect, a form message, a 403 or 404 page).
import { redirect, type AppLoadContext } from "@remix-run/node";
import { appErrorCodeFromTrpc, appErrorHttpStatus, describeIssues, type AppErrorCode } from "../../server/errors.ts";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { nextParam, safeNext, type Failure, type Me } from "./identity";

export const LOGIN_PATH = "/login";
export const PASSWORD_PATH = "/account/password";

/** Where this request was going (path and query, without Remix's own parameters), to come back to after signing in. */
export function returnPath(request: Request): string {
  const url = new URL(request.url);
  url.searchParams.delete("_routes");
  url.searchParams.delete("index");
  return safeNext(url.pathname + url.search);
}

export const loginRedirect = (next: string) => redirect(`${LOGIN_PATH}?${nextParam(next)}`);
export const passwordRedirect = (next: string) => redirect(next === "/" ? PASSWORD_PATH : `${PASSWORD_PATH}?${nextParam(next)}`);

/**
 * The server-side caller throws tRPC errors whose cause is the AppError (or the ZodError of bad input). The Remix
 * build carries its own copy of server modules, so this reads their shape instead of using instanceof.
 */
export function procedureFailure(err: unknown): Failure & { status: number } {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | null;
  const cause = e?.cause as { name?: unknown; code?: unknown; message?: unknown; details?: unknown; issues?: unknown } | undefined;
  if (cause?.name === "AppError" && typeof cause.code === "string" && cause.code in appErrorHttpStatus) {
    const code = cause.code as AppErrorCode;
    const details = cause.details && typeof cause.details === "object" ? (cause.details as Record<string, unknown>) : null;
    return { code, message: String(cause.message), details, status: appErrorHttpStatus[code] };
  }
  if (cause && Array.isArray(cause.issues)) {
    return { code: "INVALID_INPUT", message: describeIssues(cause.issues), details: null, status: 400 };
  }
  if (e?.name === "TRPCError" && typeof e.code === "string") {
    const code = appErrorCodeFromTrpc(e.code as TRPC_ERROR_CODE_KEY);
    return { code, message: code === "INTERNAL" ? "Internal error" : String(e.message), details: null, status: appErrorHttpStatus[code] };
  }
  return { code: "INTERNAL", message: "Internal error", details: null, status: 500 };
}

const mustChangePassword = (f: Failure) => f.code === "FORBIDDEN" && f.details?.reason === "password_change_required";

/** The signed-in person, or null when nobody is. */
export async function optionalMe(context: AppLoadContext): Promise<Me | null> {
  try {
    return await context.caller.auth.me();
  } catch (err) {
    if (procedureFailure(err).code === "UNAUTHENTICATED") return null;
    throw err;
  }
}

/**
 * The signed-in person; otherwise a redirect to the sign-in page that comes back here. Someone still holding a
 * one-time password is sent to change it first (unless `allowPasswordChange`, for the page that does that).
 */
export async function requireMe(context: AppLoadContext, request: Request, opts: { allowPasswordChange?: boolean } = {}): Promise<Me> {
  const me = await optionalMe(context);
  if (!me) throw loginRedirect(returnPath(request));
  if (me.must_change_password && !opts.allowPasswordChange) throw passwordRedirect(returnPath(request));
  return me;
}

/** What the root loader hands the shell: nobody on the sign-in page is fine; everywhere else needs a person. */
export function shellIdentity(context: AppLoadContext, request: Request): Promise<Me | null> {
  const path = new URL(request.url).pathname;
  if (path === LOGIN_PATH) return optionalMe(context);
  return requireMe(context, request, { allowPasswordChange: path === PASSWORD_PATH });
}

/** Turns a failure the person cannot fix on this page into a redirect or an error page; rethrows the unexpected. */
function escalate(err: unknown, f: Failure & { status: number }, request: Request): never {
  if (f.code === "UNAUTHENTICATED") throw loginRedirect(returnPath(request));
  if (mustChangePassword(f)) throw passwordRedirect(returnPath(request));
  if (f.code === "INTERNAL") throw err;
  throw new Response(f.message, { status: f.status, statusText: f.code === "FORBIDDEN" ? "Not allowed" : f.code === "NOT_FOUND" ? "Not found" : undefined });
}

/** Runs a procedure for a loader: its result, or a redirect/error page when it fails. */
export async function load<T>(request: Request, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    escalate(err, procedureFailure(err), request);
  }
}

export type Attempt<T> = { ok: true; value: T } | { ok: false; failure: Failure & { status: number } };

/**
 * Runs a procedure for an action: its result, or the failure to show next to the form. Signed-out callers are sent
 * to sign in and unexpected errors still surface as a 500.
 */
export async function attempt<T>(request: Request, fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const failure = procedureFailure(err);
    if (failure.code === "UNAUTHENTICATED" || mustChangePassword(failure) || failure.code === "INTERNAL") escalate(err, failure, request);
    return { ok: false, failure };
  }
}
