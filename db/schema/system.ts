// Installation-wide facts (not tenant-bound): one row that identifies this Cairn installation.
import { pgTable, text, timestamp, uuid, boolean, check } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

export const installation = pgTable(
  "installation",
  {
    id: boolean("id").primaryKey().default(true),
    installationId: uuid("installation_id").notNull().default(sql`gen_random_uuid()`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    createdByVersion: text("created_by_version").notNull(),
  },
  (t) => [check("installation_singleton", sql`${t.id} = true`)],
);
