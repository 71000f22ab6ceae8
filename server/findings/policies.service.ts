// Policies (named sets of rule entries: a rule id, a `prefix.*` pattern or `*`, enabled or not, an optional severity
// override) and their bindings to the tenant or to one source with a mode: audit, enforce or disabled. Writes are
// validated first and audited in the same transaction. They take effect at the next evaluation of a source (its next
// run, a push, or a rematerialize).
import { and, count, desc, eq, inArray, isNull, sql, type SQL } from "drizzle-orm";
import type { Tx } from "../../db/tenant.ts";
import { policies, policyBindings, sources, type BindingMode, type BindingTarget, type PolicyRule, type Severity } from "../../db/schema/index.ts";
import type { AuditIn } from "../domain/credentials/credential-refs.service.ts";
import { afterCursor, cursorColumn, toPage } from "../domain/keyset.ts";
import { AppError } from "../errors.ts";
import { ruleMeta } from "./rules.ts";

type PolicyRow = typeof policies.$inferSelect;
type BindingRow = typeof policyBindings.$inferSelect;

export const RULE_PATTERN = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.:/@+-]*(\.\*)?)$/;

export function presentPolicy(p: PolicyRow, bindings = 0) {
  return {
    policy_id: p.id,
    name: p.name,
    description: p.description,
    rules: p.rules.map((r) => ({ rule: r.rule, enabled: r.enabled, severity: r.severity ?? null, catalogued: r.rule.includes("*") ? null : ruleMeta(r.rule) !== null })),
    bindings,
    created_by: p.createdBy,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}
export type PolicyView = ReturnType<typeof presentPolicy>;

export function presentBinding(b: BindingRow, extra: { policyName?: string | null; targetName?: string | null } = {}) {
  return {
    binding_id: b.id,
    tenant_id: b.tenantId,
    policy_id: b.policyId,
    policy_name: extra.policyName ?? null,
    policy_kind: b.policyKind,
    target_type: b.targetType,
    target_id: b.targetId,
    target_name: extra.targetName ?? null,
    mode: b.mode,
    created_by: b.createdBy,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}
export type BindingView = ReturnType<typeof presentBinding>;

export interface PolicyRuleInput {
  rule: string;
  enabled?: boolean;
  severity?: Severity | null;
}

function normalizeRules(rules: PolicyRuleInput[]): PolicyRule[] {
  const seen = new Set<string>();
  return rules.map((r, i) => {
    if (!RULE_PATTERN.test(r.rule)) throw new AppError("INVALID_INPUT", `rules.${i}.rule: a rule id (mcp.inline_secret), a prefix pattern (mcp.*) or *`, { field: `rules.${i}.rule` });
    if (seen.has(r.rule)) throw new AppError("INVALID_INPUT", `rules.${i}.rule: ${r.rule} is listed twice`, { field: `rules.${i}.rule` });
    seen.add(r.rule);
    return { rule: r.rule, enabled: r.enabled ?? true, ...(r.severity ? { severity: r.severity } : {}) };
  });
}

async function bindingCounts(tx: Tx, policyIds: string[]): Promise<Map<string, number>> {
  if (!policyIds.length) return new Map();
  const rows = await tx.select({ policyId: policyBindings.policyId, n: count() }).from(policyBindings).where(inArray(policyBindings.policyId, policyIds)).groupBy(policyBindings.policyId);
  return new Map(rows.map((r) => [r.policyId, Number(r.n)]));
}

export async function findPolicy(tx: Tx, id: string, lock = false): Promise<PolicyRow> {
  const q = tx.select().from(policies).where(eq(policies.id, id));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw new AppError("NOT_FOUND", "No such policy");
  return row;
}

export async function listPolicies(tx: Tx, f: { cursor?: string; limit: number }) {
  const where: SQL[] = [];
  const after = afterCursor(policies.createdAt, policies.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({ policy: policies, cursorAt: cursorColumn(policies.createdAt), id: policies.id })
    .from(policies)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(policies.createdAt), desc(policies.id))
    .limit(f.limit + 1);
  const counts = await bindingCounts(
    tx,
    rows.map((r) => r.id),
  );
  return toPage(rows, f.limit, (r) => presentPolicy(r.policy, counts.get(r.id) ?? 0));
}

export async function getPolicy(tx: Tx, id: string) {
  const row = await findPolicy(tx, id);
  const bindings = await listBindings(tx, { policy_id: id, limit: 200 });
  return { ...presentPolicy(row, bindings.items.length), binding_list: bindings.items };
}

export interface PolicyInput {
  name: string;
  description?: string;
  rules: PolicyRuleInput[];
}

async function nameTaken(tx: Tx, name: string, exceptId?: string): Promise<boolean> {
  const [row] = await tx.select({ id: policies.id }).from(policies).where(eq(policies.name, name));
  return Boolean(row && row.id !== exceptId);
}

export async function createPolicy(tx: Tx, tenantId: string, input: PolicyInput, createdBy: string, auditIn: AuditIn): Promise<PolicyView> {
  const rules = normalizeRules(input.rules);
  if (await nameTaken(tx, input.name)) throw new AppError("CONFLICT", `A policy named "${input.name}" already exists`, { field: "name" });
  const [row] = await tx.insert(policies).values({ tenantId, name: input.name, description: input.description ?? "", rules, createdBy }).returning();
  await auditIn(tx, { targetType: "policy", targetId: row!.id, action: "policy.create", outcome: "success", details: { name: row!.name, rules } });
  return presentPolicy(row!, 0);
}

/** Modes of this policy's bindings (a rules change under an enforce or disabled binding is a high-risk change). */
export async function policyBindingModes(tx: Tx, policyId: string): Promise<BindingMode[]> {
  const rows = await tx.select({ mode: policyBindings.mode }).from(policyBindings).where(eq(policyBindings.policyId, policyId));
  return rows.map((r) => r.mode);
}

export async function updatePolicy(tx: Tx, id: string, input: Partial<PolicyInput>, auditIn: AuditIn): Promise<PolicyView> {
  const current = await findPolicy(tx, id, true);
  const changes: Partial<typeof policies.$inferInsert> = {};
  if (input.name !== undefined && input.name !== current.name) {
    if (await nameTaken(tx, input.name, id)) throw new AppError("CONFLICT", `A policy named "${input.name}" already exists`, { field: "name" });
    changes.name = input.name;
  }
  if (input.description !== undefined) changes.description = input.description;
  if (input.rules !== undefined) changes.rules = normalizeRules(input.rules);
  const [row] = await tx
    .update(policies)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(policies.id, id))
    .returning();
  await auditIn(tx, { targetType: "policy", targetId: id, action: "policy.update", outcome: "success", details: { fields: Object.keys(changes), ...(changes.rules ? { rules: changes.rules } : {}) } });
  const counts = await bindingCounts(tx, [id]);
  return presentPolicy(row!, counts.get(id) ?? 0);
}

export async function deletePolicy(tx: Tx, id: string, auditIn: AuditIn): Promise<{ policy_id: string }> {
  const current = await findPolicy(tx, id, true);
  const counts = await bindingCounts(tx, [id]);
  const n = counts.get(id) ?? 0;
  if (n) throw new AppError("CONFLICT", `This policy has ${n} binding(s): delete them first`, { bindings: n });
  await tx.delete(policies).where(eq(policies.id, id));
  await auditIn(tx, { targetType: "policy", targetId: id, action: "policy.delete", outcome: "success", details: { name: current.name } });
  return { policy_id: id };
}

export interface BindingFilter {
  policy_id?: string;
  target_type?: BindingTarget;
  target_id?: string;
  mode?: BindingMode;
  cursor?: string;
  limit: number;
}

export async function listBindings(tx: Tx, f: BindingFilter) {
  const where: SQL[] = [];
  if (f.policy_id) where.push(eq(policyBindings.policyId, f.policy_id));
  if (f.target_type) where.push(eq(policyBindings.targetType, f.target_type));
  if (f.target_id) where.push(eq(policyBindings.targetId, f.target_id));
  if (f.mode) where.push(eq(policyBindings.mode, f.mode));
  const after = afterCursor(policyBindings.createdAt, policyBindings.id, f.cursor);
  if (after) where.push(after);
  const rows = await tx
    .select({ binding: policyBindings, policyName: policies.name, sourceName: sources.displayName, cursorAt: cursorColumn(policyBindings.createdAt), id: policyBindings.id })
    .from(policyBindings)
    .innerJoin(policies, eq(policies.id, policyBindings.policyId))
    .leftJoin(sources, and(eq(policyBindings.targetType, "source"), eq(sources.id, policyBindings.targetId)))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(policyBindings.createdAt), desc(policyBindings.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => presentBinding(r.binding, { policyName: r.policyName, targetName: r.binding.targetType === "tenant" ? "whole tenant" : r.sourceName }));
}

export interface BindingInput {
  policy_id: string;
  target_type: BindingTarget;
  /** A source id; for the tenant, omitted (or the tenant's own id). */
  target_id?: string | null;
  mode: BindingMode;
}

/** The binding row this input names (to decide whether the change is high-risk before making it). */
export async function resolveBindingTarget(tx: Tx, tenantId: string, input: BindingInput): Promise<{ targetId: string; existing: BindingRow | null; targetName: string }> {
  await findPolicy(tx, input.policy_id);
  let targetId: string;
  let targetName = "whole tenant";
  if (input.target_type === "tenant") {
    if (input.target_id && input.target_id !== tenantId) throw new AppError("INVALID_INPUT", "target_id: a tenant binding applies to the current tenant; leave target_id out", { field: "target_id" });
    targetId = tenantId;
  } else {
    if (!input.target_id) throw new AppError("INVALID_INPUT", 'target_id: required when target_type is "source"', { field: "target_id" });
    const [src] = await tx.select({ id: sources.id, name: sources.displayName }).from(sources).where(and(eq(sources.id, input.target_id), isNull(sources.deletedAt)));
    if (!src) throw new AppError("NOT_FOUND", "No such source");
    targetId = src.id;
    targetName = src.name;
  }
  const [existing] = await tx
    .select()
    .from(policyBindings)
    .where(and(eq(policyBindings.policyId, input.policy_id), eq(policyBindings.targetType, input.target_type), eq(policyBindings.targetId, targetId)))
    .for("update");
  return { targetId, existing: existing ?? null, targetName };
}

/** Creates the binding, or changes the mode of the existing binding of this policy to this target. */
export async function setBinding(tx: Tx, tenantId: string, input: BindingInput, createdBy: string, auditIn: AuditIn): Promise<BindingView & { created: boolean }> {
  const { targetId, existing, targetName } = await resolveBindingTarget(tx, tenantId, input);
  const policy = await findPolicy(tx, input.policy_id);
  let row: BindingRow;
  if (existing) {
    [row] = (await tx.update(policyBindings).set({ mode: input.mode, updatedAt: new Date() }).where(eq(policyBindings.id, existing.id)).returning()) as [BindingRow];
    await auditIn(tx, { targetType: "policy_binding", targetId: row.id, action: "policy_binding.update", outcome: "success", details: { policy_id: policy.id, target_type: input.target_type, target_id: targetId, from: existing.mode, to: input.mode } });
  } else {
    [row] = (await tx.insert(policyBindings).values({ tenantId, policyId: policy.id, targetType: input.target_type, targetId, mode: input.mode, createdBy }).returning()) as [BindingRow];
    await auditIn(tx, { targetType: "policy_binding", targetId: row.id, action: "policy_binding.create", outcome: "success", details: { policy_id: policy.id, target_type: input.target_type, target_id: targetId, mode: input.mode } });
  }
  return { ...presentBinding(row, { policyName: policy.name, targetName }), created: !existing };
}

export async function findBinding(tx: Tx, id: string): Promise<BindingRow> {
  const [row] = await tx.select().from(policyBindings).where(eq(policyBindings.id, id)).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such policy binding");
  return row;
}

export async function deleteBinding(tx: Tx, id: string, auditIn: AuditIn): Promise<{ binding_id: string }> {
  const row = await findBinding(tx, id);
  await tx.delete(policyBindings).where(eq(policyBindings.id, id));
  await auditIn(tx, { targetType: "policy_binding", targetId: id, action: "policy_binding.delete", outcome: "success", details: { policy_id: row.policyId, target_type: row.targetType, target_id: row.targetId, mode: row.mode } });
  return { binding_id: id };
}

/** Rules seen in this tenant's findings that the catalogue does not describe (for the rules list). */
export async function uncataloguedRules(tx: Tx): Promise<{ rule: string; findings: number }[]> {
  const rows = await tx.execute<{ rule: string; n: number }>(sql`select rule, count(*)::int as n from findings group by rule order by rule limit 500`);
  return rows.filter((r) => !ruleMeta(r.rule)).map((r) => ({ rule: r.rule, findings: r.n }));
}
