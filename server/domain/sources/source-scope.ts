// Validating a source's scope for its kind: the connector's own check when one exists, otherwise the shapes the
// API contract fixes (`{"paths": [...]}` or `{"url": ...}` for scan.mcp_config and scan.repo) and obvious ones.
import type { SourceKind } from "../../../db/schema/control.ts";
import { connectorFor } from "../../connectors/registry.ts";

export const MAX_SCOPE_BYTES = 64 * 1024;
const MAX_PATHS = 200;

const PATH_OR_URL_KINDS: readonly SourceKind[] = ["scan.mcp_config", "scan.repo"];

/** Git remotes: https://, http://, ssh://, git://, file:// URLs, or scp-style `git@host:owner/repo.git`. */
function isGitUrl(value: string): boolean {
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(value)) return true;
  try {
    const url = new URL(value);
    return ["https:", "http:", "ssh:", "git:", "file:"].includes(url.protocol) && (url.protocol === "file:" || url.hostname.length > 0);
  } catch {
    return false;
  }
}

function pathsProblem(paths: unknown): string | null {
  if (!Array.isArray(paths)) return "paths: must be a list of paths";
  if (paths.length === 0) return "paths: must name at least one path";
  if (paths.length > MAX_PATHS) return `paths: at most ${MAX_PATHS} paths`;
  for (const [i, p] of paths.entries()) {
    if (typeof p !== "string" || p.trim() === "") return `paths.${i}: must be a non-empty string`;
    if (p.length > 4096 || p.includes("\0")) return `paths.${i}: not a usable path`;
  }
  return null;
}

function urlProblem(url: unknown): string | null {
  if (typeof url !== "string" || !isGitUrl(url)) return "url: must be a git repository URL (https://…, ssh://…, git@host:owner/repo.git)";
  return null;
}

/** The shapes every kind shares: a present `paths` or `url` must at least be well-formed. */
function commonProblem(scope: Record<string, unknown>): string | null {
  if ("paths" in scope) {
    const p = pathsProblem(scope.paths);
    if (p) return p;
  }
  if ("url" in scope && typeof scope.url !== "string") return "url: must be a string";
  return null;
}

function pathOrUrlProblem(scope: Record<string, unknown>): string | null {
  const hasPaths = "paths" in scope;
  const hasUrl = "url" in scope;
  if (hasPaths === hasUrl) return 'scope: must name what to read: {"paths": [...]} or {"url": "<git repository>"}, one of the two';
  if (hasPaths) return pathsProblem(scope.paths);
  const u = urlProblem(scope.url);
  if (u) return u;
  if ("ref" in scope && (typeof scope.ref !== "string" || !scope.ref.trim())) return "ref: must be a branch, tag or commit";
  return null;
}

/** A message naming the field (prefixed `scope.`), or null when the scope is acceptable for the kind. */
export function scopeProblem(kind: SourceKind, scope: unknown): string | null {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return "scope: must be a JSON object";
  if (Buffer.byteLength(JSON.stringify(scope)) > MAX_SCOPE_BYTES) return `scope: larger than ${MAX_SCOPE_BYTES} bytes`;
  const connector = connectorFor(kind);
  const problem = connector ? connector.validateScope(scope) : PATH_OR_URL_KINDS.includes(kind) ? pathOrUrlProblem(scope as Record<string, unknown>) : commonProblem(scope as Record<string, unknown>);
  if (!problem) return null;
  if (/^scope[.:]/.test(problem)) return problem;
  // Connectors name the field inside the scope (`paths.0: …`); anything else is about the scope as a whole.
  return /^[\w.-]+: /.test(problem) ? `scope.${problem}` : `scope: ${problem}`;
}
