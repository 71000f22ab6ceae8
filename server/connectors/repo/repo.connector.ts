// scan.repo: a local checkout (`{"paths": [...]}`, read in place under the path policy) or a git repository
// (`{"url": ..., "ref"?: ...}`, shallow-cloned into a temporary directory that is removed afterwards). Inventories
// dependency manifests and lockfiles (packages keyed by purl, with their dependency edges), MCP client configs, and
// secret-like strings (reported with redacted snippets and file:line, never the value).
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Connector, ConnectorInput, ConnectorOutput, RawArtifact } from "../contract.ts";
import { pathRefusal } from "../path-policy.ts";
import { ALLOWED_GIT_PROTOCOLS, cloneRepository, displayUrl, gitCredentialsFrom, readHead, type HeadInfo } from "./git.ts";
import { buildRepoGraph, type RepoGraph, type RepoTarget } from "./repo-graph.ts";
import { DEFAULT_REPO_LIMITS, scanTree, type RepoLimits, type TreeScan } from "./scan-tree.ts";

export const REPO_KIND = "scan.repo";
export const REPO_INDEX_ARTIFACT = "repo_scan.index";
const MAX_PATHS = 50;

type Warning = ConnectorOutput["warnings"][number];

function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

/** Git remotes: https, http, ssh, git and file URLs, or scp-style `user@host:path`. */
function urlProblem(url: string): string | null {
  if (url.length > 2048) return "url: longer than 2048 characters";
  if (/\s|\0/.test(url)) return "url: must not contain whitespace";
  if (url.startsWith("-")) return "url: must not start with -";
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(url) && !url.includes("://")) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "url: must be a git repository URL (https://…, ssh://…, git@host:owner/repo.git, file:///path)";
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (!ALLOWED_GIT_PROTOCOLS.includes(scheme)) return `url: the ${scheme} transport is not allowed (use ${ALLOWED_GIT_PROTOCOLS.join(", ")})`;
  if (scheme !== "file" && !parsed.hostname) return "url: must name a host";
  if (parsed.password) return "url: must not carry a password: put it in a credential ref and set the source's credential_ref_id";
  return null;
}

export function validateRepoScope(scope: unknown): string | null {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return 'scope: must be an object such as {"paths": ["/src/app"]} or {"url": "https://host/owner/repo.git"}';
  const s = scope as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => !["paths", "url", "ref"].includes(k));
  if (extra.length) return `scope.${extra[0]}: unknown field (scan.repo takes paths, or url and ref)`;
  if (("paths" in s) === ("url" in s)) return 'scope: name what to read: {"paths": [...]} or {"url": "<git repository>"}, one of the two';
  if ("paths" in s) {
    if ("ref" in s) return "scope.ref: only with url (a local checkout is read as it is)";
    const paths = s.paths;
    if (!Array.isArray(paths) || paths.length === 0) return "scope.paths: must list at least one repository directory";
    if (paths.length > MAX_PATHS) return `scope.paths: at most ${MAX_PATHS} paths`;
    for (const [i, p] of paths.entries()) {
      if (typeof p !== "string" || p.trim() === "") return `scope.paths[${i}]: must be a non-empty path string`;
      if (p.length > 4096 || p.includes("\0")) return `scope.paths[${i}]: not a usable path`;
    }
    return null;
  }
  if (typeof s.url !== "string") return "scope.url: must be a string";
  const problem = urlProblem(s.url);
  if (problem) return `scope.${problem}`;
  if ("ref" in s && (typeof s.ref !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(s.ref) || s.ref.includes(".."))) {
    return "scope.ref: must be a branch, tag or commit (letters, digits, ., _, / and -)";
  }
  return null;
}

interface ScannedRepo {
  target: RepoTarget;
  scan: TreeScan;
  graph: RepoGraph;
}

function targetFor(key: string, ref: string, name: string, head: HeadInfo | null, extra: Record<string, unknown>, scan?: TreeScan): RepoTarget {
  return {
    key,
    ref,
    name,
    properties: {
      ...extra,
      commit: head?.commit ?? null,
      branch: head?.branch ?? null,
      ...(head?.remoteUrl ? { remote_url: head.remoteUrl } : {}),
      ...(scan ? { files: scan.stats.files, manifests: scan.manifests.length, mcp_configs: scan.mcpConfigs.length } : {}),
    },
  };
}

async function scanLocal(input: ConnectorInput, p: string, limits: RepoLimits, warn: (w: Warning) => void): Promise<ScannedRepo | null> {
  const root = path.resolve(p);
  const refused = await pathRefusal(input.paths, root);
  if (refused) {
    warn({ message: `not scanned: ${refused}`, where: root });
    return null;
  }
  let real: string;
  try {
    real = await fs.realpath(root);
    const st = await fs.stat(real);
    if (!st.isDirectory()) {
      warn({ message: "not a directory: scan.repo reads a repository's folder", where: root });
      return null;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    warn({ message: code === "ENOENT" ? "path does not exist" : code === "EACCES" || code === "EPERM" ? "path is not readable (permission denied)" : `path cannot be read (${code ?? "error"})`, where: root });
    return null;
  }
  const head = await readHead(real);
  const scan = await scanTree(real, { limits, signal: input.signal, deniedDirs: input.paths?.denied ?? [] });
  const target = targetFor(`repo:${real}`, real, path.basename(real), head, { source: "path", path: real }, scan);
  return { target, scan, graph: buildRepoGraph(target, scan) };
}

async function scanClone(input: ConnectorInput, url: string, ref: string | undefined, limits: RepoLimits): Promise<ScannedRepo> {
  if (url.startsWith("file:")) {
    // A file:// remote reads the worker's own disk: the same path policy as a local scan applies.
    let local: string;
    try {
      local = fileURLToPath(url);
    } catch {
      throw permanent(`Invalid scope: scope.url: not a usable file URL`);
    }
    const refused = await pathRefusal(input.paths, local);
    if (refused) throw permanent(`Repository ${url} is not cloned: ${refused}`);
  }
  const shown = displayUrl(url);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-repo-"));
  try {
    const scratch = path.join(tmp, "home");
    const into = path.join(tmp, "checkout");
    await fs.mkdir(scratch, { mode: 0o700 });
    await fs.mkdir(into, { mode: 0o700 });
    input.log("info", `cloning ${shown}${ref ? ` at ${ref}` : ""} (shallow)`);
    await cloneRepository({ url, ref, into, scratch, credentials: gitCredentialsFrom(input.credentials), signal: input.signal, maxBytes: limits.maxCloneBytes, log: input.log });
    const head = await readHead(into);
    input.log("info", `cloned ${shown} at ${head?.commit ?? "an unknown commit"}`);
    const scan = await scanTree(into, { limits, signal: input.signal, deniedDirs: [] });
    const name = shown.replace(/\.git$/, "").split(/[/:]/).filter(Boolean).pop() ?? shown;
    const target = targetFor(`repo:${shown}`, shown, name, head, { source: "clone", url: shown, ref: ref ?? null }, scan);
    return { target, scan, graph: buildRepoGraph(target, scan) };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function indexArtifact(repos: ScannedRepo[]): RawArtifact {
  const doc = {
    format: "cairn.repo-scan/v1",
    note: "What scan.repo read: each repository's commit, the manifests and lockfiles it parsed (path, sha256, size), the MCP configs it found (env and header values replaced by [REDACTED]) and where secret-like strings are (redacted snippets only).",
    repositories: repos.map((r) => ({
      id: r.target.key,
      ...r.target.properties,
      stats: r.scan.stats,
      manifests: r.scan.manifests.map((m) => ({ path: m.file, kind: m.kind, format: m.parsed.format, sha256: m.sha256, size: m.size, packages: m.parsed.packages.length })),
      mcp_configs: r.scan.mcpConfigs.map((c) => ({ path: c.file, client: c.parsed.client, format: c.format, content: c.parsed.redacted })),
      secrets: r.graph.findings.filter((f) => f.rule.startsWith("secret.")).map((f) => ({ rule: f.rule, where: f.where, snippet: f.details.snippet, fingerprint: f.fingerprint })),
    })),
  };
  return { kind: REPO_INDEX_ARTIFACT, contentType: "application/json", body: Buffer.from(JSON.stringify(doc, null, 2)) };
}

export async function collectRepo(input: ConnectorInput, limits: RepoLimits = DEFAULT_REPO_LIMITS): Promise<ConnectorOutput> {
  const problem = validateRepoScope(input.scope);
  if (problem) throw permanent(`Invalid scope: ${problem}`);
  const warnings: Warning[] = [];
  const warn = (w: Warning) => {
    warnings.push(w);
    input.log("warn", w.where ? `${w.where}: ${w.message}` : w.message);
  };
  const repos: ScannedRepo[] = [];
  if (typeof input.scope.url === "string") {
    repos.push(await scanClone(input, input.scope.url, typeof input.scope.ref === "string" ? input.scope.ref : undefined, limits));
  } else {
    for (const p of [...new Set(input.scope.paths as string[])]) {
      input.signal.throwIfAborted();
      const scanned = await scanLocal(input, p, limits, warn);
      if (scanned) repos.push(scanned);
    }
    if (!repos.length) throw permanent(`None of the scope paths could be scanned (${warnings.map((w) => `${w.where}: ${w.message}`).join("; ")})`);
  }
  for (const r of repos) for (const w of r.scan.warnings) warn({ message: w.message, where: w.where ? `${r.target.ref}/${w.where}` : r.target.ref });

  // One graph: several paths may share packages (a package asset appears once).
  const assets = new Map<string, RepoGraph["assets"][number]>();
  for (const r of repos) for (const a of r.graph.assets) if (!assets.has(a.id)) assets.set(a.id, a);
  const relationKeys = new Set<string>();
  const relations = repos.flatMap((r) => r.graph.relations).filter((rel) => {
    const k = `${rel.type}\u0000${rel.from}\u0000${rel.to}`;
    if (relationKeys.has(k)) return false;
    relationKeys.add(k);
    return true;
  });
  const findings = repos.flatMap((r) => r.graph.findings);
  const graph = { assets: [...assets.values()], relations, findings };

  const count = (type: string) => graph.assets.filter((a) => a.type === type).length;
  const secretFindings = findings.filter((f) => f.rule.startsWith("secret."));
  const summary = {
    source: typeof input.scope.url === "string" ? "clone" : "path",
    repositories: repos.length,
    commits: repos.map((r) => r.target.properties.commit),
    files: repos.reduce((n, r) => n + r.scan.stats.files, 0),
    bytes_read: repos.reduce((n, r) => n + r.scan.stats.bytes_read, 0),
    skipped_binary: repos.reduce((n, r) => n + r.scan.stats.skipped_binary, 0),
    skipped_large: repos.reduce((n, r) => n + r.scan.stats.skipped_large, 0),
    manifests: repos.reduce((n, r) => n + r.scan.manifests.length, 0),
    packages: count("package"),
    dependency_edges: relations.filter((r) => r.type === "depends_on").length,
    mcp_configs: count("mcp_client_config"),
    mcp_servers: count("mcp_server"),
    secrets: secretFindings.length,
    findings: findings.length,
  };
  input.log(
    "info",
    `scanned ${summary.files} file(s) in ${repos.length} repositor${repos.length === 1 ? "y" : "ies"}: ${summary.manifests} manifest(s), ${summary.packages} package(s), ${summary.mcp_servers} MCP server(s), ${summary.secrets} secret-like string(s)`,
  );
  return { items: graph.assets.length, summary, graph, artifacts: [indexArtifact(repos)], warnings };
}

export const repoConnector: Connector = {
  kind: REPO_KIND,
  validateScope: validateRepoScope,
  collect: (input) => collectRepo(input),
};
