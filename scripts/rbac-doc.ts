// Prints the generated tables for docs/rbac.md (npm run docs:rbac); a test fails when the doc drifts.
import type { AnyProcedure } from "@trpc/server";
import { appRouter } from "../server/trpc/router.ts";
import { renderRbacTables } from "../server/domain/auth/rbac-doc.ts";

process.stdout.write(`${renderRbacTables(appRouter._def.procedures as unknown as Record<string, AnyProcedure>)}\n`);
