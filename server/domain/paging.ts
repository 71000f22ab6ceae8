// Opaque keyset cursors for list endpoints: `{items, next_cursor}` ordered newest first by (created_at, id).
import { AppError } from "../errors.ts";

export interface Cursor {
  at: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString("base64url");
}

export function decodeCursor(raw: string | undefined | null): Cursor | null {
  if (!raw) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as [string, string];
    if (typeof at !== "string" || typeof id !== "string" || Number.isNaN(Date.parse(at))) throw new Error("shape");
    return { at, id };
  } catch {
    throw new AppError("INVALID_INPUT", "cursor: not a cursor this API returned");
  }
}

/** Given limit+1 rows, returns the page and the cursor to the next one. */
export function page<T>(rows: T[], limit: number, key: (row: T) => Cursor): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? encodeCursor(key(items[items.length - 1]!)) : null };
}
