// The architectural lint rules really fire (and stay quiet where they should).
import { ESLint } from "eslint";
import path from "node:path";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, "..") });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe("lint guards", () => {
  it("browser code cannot import server/ or db/", async () => {
    expect(await ruleIds(`import { appRouter } from "../../server/trpc/router.ts";\nexport const r = appRouter;\n`, "app/routes/example.tsx")).toContain("@typescript-eslint/no-restricted-imports");
    expect(await ruleIds(`import { createDbClient } from "../../db/client.ts";\nexport const c = createDbClient;\n`, "app/lib/example.ts")).toContain("@typescript-eslint/no-restricted-imports");
  });

  it("allows type-only imports and *.server.ts bridges", async () => {
    expect(await ruleIds(`import type { AppRouter } from "../../server/trpc/router.ts";\nexport type R = AppRouter;\n`, "app/lib/example.ts")).toEqual([]);
    expect(await ruleIds(`import { appRouter } from "../../server/trpc/router.ts";\nexport const r = appRouter;\n`, "app/lib/example.server.ts")).toEqual([]);
  });

  it("Drizzle update and delete need a where clause", async () => {
    const ids = await ruleIds(`declare const db: any; declare const t: any;\nexport async function f() {\n  await db.delete(t);\n  await db.update(t).set({ a: 1 });\n}\n`, "server/domain/example.ts");
    expect(ids).toContain("drizzle/enforce-delete-with-where");
    expect(ids).toContain("drizzle/enforce-update-with-where");
  });

  it("only the env module reads process.env", async () => {
    expect(await ruleIds(`export const port = process.env.PORT;\n`, "server/http/example.ts")).toContain("no-restricted-properties");
    expect(await ruleIds(`export const port = process.env.PORT;\n`, "server/config/env.ts")).toEqual([]);
  });
});
