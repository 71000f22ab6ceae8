// Loaders of the fabric pages: a platform procedure's result, or — for someone who is not a platform owner — the
// server's refusal as something the page says plainly (other failures still become redirects or error pages).
import { attempt } from "./auth.server";

export type Gated<T> = { allowed: true; data: T; message: null } | { allowed: false; data: null; message: string };

export async function platformOnly<T>(request: Request, fn: () => Promise<T>): Promise<Gated<T>> {
  const result = await attempt(request, fn);
  if (result.ok) return { allowed: true, data: result.value, message: null };
  if (result.failure.code === "FORBIDDEN") return { allowed: false, data: null, message: result.failure.message };
  throw new Response(result.failure.message, { status: result.failure.status, statusText: result.failure.code === "NOT_FOUND" ? "Not found" : undefined });
}
