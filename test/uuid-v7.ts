// Shared check of a time-ordered job id (UUIDv7, RFC 9562; ADR 011), used by the PostgreSQL 18 and 15 tests.
import { expect } from "vitest";

/** The id is version 7 with the RFC 9562 variant, and its millisecond timestamp lies in [before, after] (± 1 s). */
export function expectUuidV7(id: string, before: number, after: number) {
  const hex = id.replaceAll("-", "");
  expect(hex[12], id).toBe("7"); // version
  expect(["8", "9", "a", "b"], id).toContain(hex[16]); // variant
  const ms = parseInt(hex.slice(0, 12), 16);
  // The database and the test read the same host clock; a second's slack covers rounding and scheduling.
  expect(ms, id).toBeGreaterThanOrEqual(before - 1_000);
  expect(ms, id).toBeLessThanOrEqual(after + 1_000);
}
