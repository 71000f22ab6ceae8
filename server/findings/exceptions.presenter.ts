// Read model for exceptions: the keyset list (after expiring the ones that ran out).
import { and, desc, eq, type SQL } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { findingExceptions, type ExceptionStatus } from "../../db/schema/index.ts";
import { afterCursor, cursorColumn, toPage } from "../domain/keyset.ts";
import { expireDueExceptions, presentException } from "./exceptions.service.ts";

export async function listExceptions(tx: Tx, tenantId: string, f: { status?: ExceptionStatus; finding_id?: string; cursor?: string; limit: number }) {
  await expireDueExceptions(tx, tenantId);
  const where: SQL[] = [];
  if (f.status) where.push(eq(findingExceptions.status, f.status));
  if (f.finding_id) where.push(eq(findingExceptions.findingId, f.finding_id));
  const after = afterCursor(findingExceptions.createdAt, findingExceptions.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({ row: findingExceptions, cursorAt: cursorColumn(findingExceptions.createdAt), id: findingExceptions.id })
    .from(findingExceptions)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(findingExceptions.createdAt), desc(findingExceptions.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => presentException(r.row));
}
