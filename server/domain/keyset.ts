// The SQL side of keyset pages (cursors themselves are paging.ts's): the exact created_at to put in a cursor, the
// condition for "after it", and turning limit+1 rows into `{items, next_cursor}`. Newest first by (created_at, id).
import { and, eq, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { isUuid } from "../../db/tenant.ts";
import { AppError } from "../errors.ts";
import { decodeCursor, page } from "./paging.ts";

export const PAGE_DEFAULT_LIMIT = 50;
export const PAGE_MAX_LIMIT = 200;

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * created_at in UTC with all six fractional digits, selected beside each row as `cursorAt`. A JS Date keeps only
 * milliseconds, and rows written in one transaction share created_at (now()), so a rounded cursor would skip the
 * rest of such a batch at a page boundary.
 */
export function cursorColumn(createdAt: PgColumn): SQL<string> {
  return sql<string>`to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * Rows strictly after the cursor in (created_at desc, id desc) order. Written as plain comparisons rather than a row
 * comparison: under row-level security only leakproof operators reach an index.
 */
export function afterCursor(createdAt: PgColumn, id: PgColumn, cursor: string | undefined): SQL | undefined {
  const key = decodeCursor(cursor);
  if (!key) return undefined;
  // Checked here so a forged cursor is a 400, not a failed cast in PostgreSQL.
  if (!isUuid(key.id) || !ISO_UTC.test(key.at)) throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  const at = sql`${key.at}::timestamptz`;
  // The leading `created_at <= at` is redundant logically but gives the planner an index range to start from
  // (an OR alone would scan from the newest row), so a deep page costs what the first one does.
  return and(lte(createdAt, at), or(lt(createdAt, at), and(eq(createdAt, at), lt(id, sql`${key.id}::uuid`))));
}

export function pageLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? PAGE_DEFAULT_LIMIT, 1), PAGE_MAX_LIMIT);
}

/** limit+1 rows selected with `cursorAt` → one page of presented items (the extra row only says another page exists). */
export function toPage<R extends { cursorAt: string; id: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const p = page(rows, limit, (r) => ({ at: r.cursorAt, id: r.id }));
  return { items: p.items.map(present), next_cursor: p.next_cursor };
}
