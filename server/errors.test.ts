import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, appErrorHttpStatus, describeIssues, errorBody } from "./errors.ts";

describe("AppError", () => {
  it("maps every code to the HTTP status of the REST contract", () => {
    expect(appErrorHttpStatus).toMatchObject({ INVALID_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, PAYLOAD_TOO_LARGE: 413, STEP_UP_REQUIRED: 428, RATE_LIMITED: 429, INTERNAL: 500 });
    expect(new AppError("STEP_UP_REQUIRED", "fresh passkey needed").status).toBe(428);
  });

  it("renders the error body without empty fields", () => {
    expect(errorBody("NOT_FOUND", "No such source")).toEqual({ error: { code: "NOT_FOUND", message: "No such source" } });
    expect(errorBody("RATE_LIMITED", "slow down", { retry_after_s: 3 }, "req-1")).toEqual({ error: { code: "RATE_LIMITED", message: "slow down", details: { retry_after_s: 3 }, request_id: "req-1" } });
  });

  it("names each failing field in validation messages", () => {
    const schema = z.object({ cron: z.string().min(9), scope: z.object({ paths: z.array(z.string()) }) }).strict();
    const result = schema.safeParse({ cron: "* *", scope: { paths: [3] }, extra: true });
    expect(result.success).toBe(false);
    const message = describeIssues(result.error!.issues);
    expect(message).toContain("cron:");
    expect(message).toContain("scope.paths.0:");
    expect(message).toContain("extra: unknown field");
  });
});
