// tRPC v11 setup: superjson, readable zod errors, AppError mapping, and the procedure builders every router uses.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { OpenApiMeta } from "trpc-to-openapi";
import { AppError, appErrorCodeFromTrpc, appErrorTrpcCode, describeIssues, type AppErrorCode } from "../errors.ts";
import type { TrpcContext } from "./context.ts";

export type Meta = OpenApiMeta;

const t = initTRPC
  .context<TrpcContext>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error, ctx }) {
      const app = toAppError(error);
      return {
        ...shape,
        message: app.message,
        data: {
          ...shape.data,
          stack: undefined,
          appCode: app.code,
          details: app.details ?? null,
          requestId: ctx?.requestId ?? null,
        },
      };
    },
  });

/** Normalises anything a procedure threw into an AppError; unknown errors never leak their message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof TRPCError) {
    if (error.cause instanceof AppError) return error.cause;
    if (error.cause instanceof ZodError) {
      return new AppError("INVALID_INPUT", describeIssues(error.cause.issues), { issues: error.cause.issues.map((i) => ({ path: i.path.map(String), message: i.message, code: i.code })) });
    }
    const code = appErrorCodeFromTrpc(error.code);
    return new AppError(code, code === "INTERNAL" ? "Internal error" : error.message);
  }
  return new AppError("INTERNAL", "Internal error");
}

export function trpcErrorFrom(app: AppError): TRPCError {
  return new TRPCError({ code: appErrorTrpcCode[app.code as AppErrorCode], message: app.message, cause: app });
}

/** Converts thrown AppErrors to TRPCErrors (keeping the AppError as cause) and logs unexpected failures. */
const errorMapping = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      (result as { error: TRPCError }).error = trpcErrorFrom(cause);
    } else if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.log.error({ err: cause ?? result.error, path }, "procedure failed");
    }
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Open to anyone who can reach the server: health and version facts only. Identity-bound builders arrive with auth. */
export const publicProcedure = t.procedure.use(errorMapping);
