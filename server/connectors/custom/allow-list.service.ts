// The custom-connector allow-list: platform owners add an executable (its absolute path and the SHA-256 of its
// bytes, computed here), list the entries with a fresh check of each executable, and remove entries. Every call is
// audited on the platform chain in the same transaction. Tenants see only names and descriptions.
import { asc, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { customConnectors } from "../../../db/schema/connectors.ts";
import { AppError } from "../../errors.ts";
import type { AuditInput } from "../../domain/audit/audit-writer.service.ts";
import { ExecutableProblem, executableStatus, inspectExecutable, type ExecutableStatus } from "./executable.ts";

export type PlatformAuditIn = (tx: Tx, event: Omit<AuditInput, "tenantId" | "actor" | "actorType" | "requestId" | "ip">) => Promise<unknown>;
export type CustomConnectorRow = typeof customConnectors.$inferSelect;

export const CONNECTOR_NAME = /^[a-z0-9][a-z0-9_-]{1,62}$/;

export interface CustomConnectorView {
  connector_id: string;
  name: string;
  display_name: string;
  description: string;
  executable_path: string;
  sha256: string;
  timeout_seconds: number;
  max_output_bytes: number;
  /** The executable as found on this host now: ok, modified (hash differs: runs are refused), missing, not_executable. */
  executable_status: ExecutableStatus;
  executable_detail: string | null;
  created_by: string;
  created_at: string;
}

export interface CreateCustomConnectorInput {
  name: string;
  display_name: string;
  description?: string;
  executable_path: string;
  /** When given, the file must hash to it (guards against allow-listing a file that changed since it was reviewed). */
  sha256?: string;
  timeout_seconds?: number;
  max_output_bytes?: number;
}

function present(row: CustomConnectorRow, check: { status: ExecutableStatus; detail: string | null }): CustomConnectorView {
  return {
    connector_id: row.id,
    name: row.name,
    display_name: row.displayName,
    description: row.description,
    executable_path: row.executablePath,
    sha256: row.sha256,
    timeout_seconds: row.timeoutSeconds,
    max_output_bytes: row.maxOutputBytes,
    executable_status: check.status,
    executable_detail: check.detail,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
  };
}

/** Allow-lists an executable (in a platform transaction). */
export async function createCustomConnector(tx: Tx, input: CreateCustomConnectorInput, createdBy: string, auditIn: PlatformAuditIn): Promise<CustomConnectorView> {
  if (!CONNECTOR_NAME.test(input.name)) throw new AppError("INVALID_INPUT", "name: lowercase letters, digits, - and _, 2–63 characters, starting with a letter or digit", { field: "name" });
  let facts;
  try {
    facts = await inspectExecutable(input.executable_path);
  } catch (err) {
    if (err instanceof ExecutableProblem) throw new AppError("INVALID_INPUT", `executable_path: ${err.message}`, { field: "executable_path", status: err.status });
    throw err;
  }
  if (input.sha256 && input.sha256.toLowerCase() !== facts.sha256) {
    throw new AppError("CONFLICT", `sha256: the file at ${facts.realPath} hashes to ${facts.sha256}, not the ${input.sha256} you reviewed`, { field: "sha256", actual: facts.sha256 });
  }
  const inserted = await tx
    .insert(customConnectors)
    .values({
      name: input.name,
      displayName: input.display_name,
      description: input.description ?? "",
      executablePath: facts.realPath,
      sha256: facts.sha256,
      ...(input.timeout_seconds !== undefined ? { timeoutSeconds: input.timeout_seconds } : {}),
      ...(input.max_output_bytes !== undefined ? { maxOutputBytes: input.max_output_bytes } : {}),
      createdBy,
    })
    .onConflictDoNothing({ target: customConnectors.name })
    .returning();
  const row = inserted[0];
  if (!row) throw new AppError("CONFLICT", `name: a custom connector named ${input.name} is already allow-listed`, { field: "name" });
  await auditIn(tx, {
    targetType: "custom_connector",
    targetId: row.id,
    action: "custom_connector.create",
    outcome: "success",
    details: { name: row.name, executable_path: row.executablePath, sha256: row.sha256, timeout_seconds: row.timeoutSeconds, max_output_bytes: row.maxOutputBytes },
  });
  return present(row, { status: "ok", detail: null });
}

/** Every entry, each executable re-checked on this host (in a platform transaction; the listing is audited). */
export async function listCustomConnectors(tx: Tx, auditIn: PlatformAuditIn): Promise<CustomConnectorView[]> {
  const rows = await tx.select().from(customConnectors).orderBy(asc(customConnectors.name));
  const views = await Promise.all(rows.map(async (row) => present(row, await executableStatus(row.executablePath, row.sha256))));
  await auditIn(tx, { targetType: "custom_connector", targetId: null, action: "custom_connector.list", outcome: "success", details: { count: rows.length } });
  return views;
}

/** Removes an entry: sources that name it fail their next run with a clear error. */
export async function deleteCustomConnector(tx: Tx, id: string, auditIn: PlatformAuditIn): Promise<{ connector_id: string; name: string }> {
  const [row] = await tx.delete(customConnectors).where(eq(customConnectors.id, id)).returning();
  if (!row) throw new AppError("NOT_FOUND", "No such custom connector");
  await auditIn(tx, { targetType: "custom_connector", targetId: row.id, action: "custom_connector.delete", outcome: "success", details: { name: row.name, executable_path: row.executablePath, sha256: row.sha256 } });
  return { connector_id: row.id, name: row.name };
}
