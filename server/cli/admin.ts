// `cairn admin …`: operator and break-glass commands that talk to the database directly.
import { parseArgs } from "node:util";
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import { openDatabase } from "../database.ts";
import { migrationStatus } from "../../db/migrate.ts";
import { UsageError } from "./usage.ts";
import { version } from "../version.ts";

export async function admin(args: string[], env: Env, log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "status") throw new UsageError(sub ? `Unknown admin command: ${sub}` : "Missing admin command");
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
  const opened = await openDatabase(env, log, `cairn-admin-${process.pid}`, 2);
  try {
    const [row] = await opened.owner.sql<{ v: string }[]>`select current_setting('server_version') as v`;
    const migrations = await migrationStatus(opened.owner);
    const status = {
      version,
      database: { kind: opened.kind, url: opened.displayUrl, server_version: row?.v ?? null, attached_to_running_server: opened.embedded ? !opened.embedded.owner : null },
      migrations,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(status)}\n`);
    else {
      process.stdout.write(
        `Cairn ${version}\nDatabase: ${status.database.kind} (${status.database.url}), PostgreSQL ${status.database.server_version}\nMigrations: ${migrations.applied}/${migrations.expected} applied${migrations.current ? " (current)" : " (run `cairn migrate`)"}\n`,
      );
    }
    return 0;
  } finally {
    await opened.close();
  }
}
