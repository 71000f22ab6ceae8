// One error type for the whole server: a code from this enum maps to an HTTP status and a tRPC code.
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

export const AppErrorCode = {
  INVALID_INPUT: "INVALID_INPUT",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNSUPPORTED: "UNSUPPORTED",
  STEP_UP_REQUIRED: "STEP_UP_REQUIRED",
  RATE_LIMITED: "RATE_LIMITED",
  NOT_READY: "NOT_READY",
  INTERNAL: "INTERNAL",
} as const;

export type AppErrorCode = (typeof AppErrorCode)[keyof typeof AppErrorCode];

export const appErrorHttpStatus: Record<AppErrorCode, number> = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED: 422,
  STEP_UP_REQUIRED: 428,
  RATE_LIMITED: 429,
  NOT_READY: 503,
  INTERNAL: 500,
};

export const appErrorTrpcCode: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  INVALID_INPUT: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNSUPPORTED: "UNPROCESSABLE_CONTENT",
  STEP_UP_REQUIRED: "PRECONDITION_FAILED",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  NOT_READY: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const trpcToApp: Partial<Record<TRPC_ERROR_CODE_KEY, AppErrorCode>> = {
  BAD_REQUEST: "INVALID_INPUT",
  PARSE_ERROR: "INVALID_INPUT",
  UNAUTHORIZED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNPROCESSABLE_CONTENT: "UNSUPPORTED",
  TOO_MANY_REQUESTS: "RATE_LIMITED",
  SERVICE_UNAVAILABLE: "NOT_READY",
  METHOD_NOT_SUPPORTED: "INVALID_INPUT",
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
    this.status = appErrorHttpStatus[code];
  }
}

export function appErrorCodeFromTrpc(code: TRPC_ERROR_CODE_KEY): AppErrorCode {
  return trpcToApp[code] ?? "INTERNAL";
}

/** The JSON body every REST and plain-HTTP error uses: {"error": {"code", "message", "details"}}. */
export interface ErrorBody {
  error: { code: AppErrorCode; message: string; details?: unknown; request_id?: string };
}

export function errorBody(code: AppErrorCode, message: string, details?: unknown, requestId?: string): ErrorBody {
  const error: ErrorBody["error"] = { code, message };
  if (details !== undefined) error.details = details;
  if (requestId) error.request_id = requestId;
  return { error };
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

/** Turns zod issues into one readable sentence that names each field. */
export function describeIssues(issues: ZodLikeIssue[]): string {
  return issues
    .map((issue) => {
      const prefix = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys" && issue.keys?.length) {
        return issue.keys.map((k) => `${prefix ? `${prefix}.` : ""}${k}: unknown field`).join("; ");
      }
      return `${prefix || "input"}: ${issue.message}`;
    })
    .join("; ");
}
