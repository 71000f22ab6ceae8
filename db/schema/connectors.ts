// Custom connectors: executables a platform owner allow-lists (absolute path + SHA-256 of the file at allow-listing
// time). Platform-scoped: written only in platform context; tenants may read which ones exist (to name one in a
// `custom` source), and the worker re-hashes the executable before every run. Entries are never updated in place:
// a changed executable is deleted and allow-listed again.
import { sql } from "drizzle-orm";
import { check, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

export const customConnectors = pgTable(
  "custom_connectors",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    /** What a `custom` source names in its scope (`{"connector": "<name>"}`). */
    name: text("name").notNull(),
    displayName: text("display_name").notNull(),
    description: text("description").notNull().default(""),
    /** Absolute path of the executable on the workers (symlinks resolved when it was allow-listed). */
    executablePath: text("executable_path").notNull(),
    /** SHA-256 (hex) of the executable's bytes; a run is refused when the file no longer hashes to it. */
    sha256: text("sha256").notNull(),
    /** The connector's own time budget; a source's shorter budget still wins. */
    timeoutSeconds: integer("timeout_seconds").notNull().default(900),
    /** Bytes it may write (stdout, stderr and every file in its work directory together). */
    maxOutputBytes: integer("max_output_bytes").notNull().default(67_108_864),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("custom_connectors_name_key").on(t.name),
    check("custom_connectors_sha256", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("custom_connectors_path", sql`left(${t.executablePath}, 1) = '/'`),
    check("custom_connectors_budgets", sql`${t.timeoutSeconds} between 1 and 86400 and ${t.maxOutputBytes} between 1024 and 1073741824`),
  ],
);
