// Renders the role × permission matrix and the procedure → permission table that docs/rbac.md carries.
import type { AnyProcedure } from "@trpc/server";
import { tenantRoles } from "../../../db/schema/tenancy.ts";
import { platformPermissions, roleMatrix, tenantPermissions } from "./permissions.ts";

export interface ProcedureInfo {
  path: string;
  type: string;
  permission: string | undefined;
  highRisk: boolean;
  rest: string | null;
}

export function procedureInfos(procedures: Record<string, AnyProcedure>): ProcedureInfo[] {
  return Object.entries(procedures)
    .map(([path, p]) => {
      const def = p._def as { type: string; meta?: { permission?: string; highRisk?: boolean; openapi?: { method: string; path: string } } };
      return {
        path,
        type: def.type,
        permission: def.meta?.permission,
        highRisk: def.meta?.highRisk ?? false,
        rest: def.meta?.openapi ? `${def.meta.openapi.method} /v1${def.meta.openapi.path}` : null,
      };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

export function renderRbacTables(procedures: Record<string, AnyProcedure>): string {
  const lines: string[] = [];
  lines.push(`| permission | ${tenantRoles.join(" | ")} |`);
  lines.push(`|---|${tenantRoles.map(() => "---").join("|")}|`);
  for (const p of tenantPermissions) lines.push(`| \`${p}\` | ${tenantRoles.map((r) => (roleMatrix[r].has(p) ? "yes" : "—")).join(" | ")} |`);
  lines.push("");
  lines.push(`Platform permissions (platform owners only): ${platformPermissions.map((p) => `\`${p}\``).join(", ")}.`);
  lines.push("");
  lines.push("| procedure | permission | high-risk | REST |");
  lines.push("|---|---|---|---|");
  for (const info of procedureInfos(procedures)) {
    lines.push(`| \`${info.path}\` | \`${info.permission ?? "MISSING"}\` | ${info.highRisk ? "step-up" : ""} | ${info.rest ? `\`${info.rest}\`` : ""} |`);
  }
  return lines.join("\n");
}
