// scan.mcp_config: walks the scope's paths on the worker's filesystem, finds MCP client configs by name or by
// shape, and inventories their servers (transport, command, package, env keys, remote URL) as a graph with a few
// findings. Env and header values never leave this module: only keys are reported, and the stored copy of each
// config has them replaced by [REDACTED].
import { pathRefusal } from "../path-policy.ts";
import fs from "node:fs/promises";
import path from "node:path";
import type { Connector, ConnectorInput, ConnectorOutput, RawArtifact } from "../contract.ts";
import { parseJsonOrJsonc } from "./jsonc.ts";
import { clientAcceptsJsonc, clientFromPath, knownConfigName, parseConfig, type McpClient, type ParsedConfig } from "./parse-config.ts";
import { serverFindings, type McpFinding } from "./findings.ts";
import type { PackageRef } from "./package-spec.ts";

export const MCP_CONFIG_KIND = "scan.mcp_config";
export const REDACTED_CONFIGS_ARTIFACT = "mcp_config.redacted";

export interface ScanLimits {
  maxDepth: number;
  /** Directory entries looked at across all paths. */
  maxEntries: number;
  maxFileBytes: number;
  maxConfigs: number;
  maxPaths: number;
}

export const DEFAULT_LIMITS: ScanLimits = { maxDepth: 6, maxEntries: 50_000, maxFileBytes: 4 * 1024 * 1024, maxConfigs: 1_000, maxPaths: 100 };

// Never worth descending into: dependency trees and VCS internals hold thousands of files and no client configs.
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".hg", ".svn", "__pycache__", ".venv", ".tox"]);
// Unknown-named JSON files are parsed only when their text mentions a servers key (cheap pre-filter).
const SHAPE_HINT = /"(mcpServers|servers|mcp\.servers|mcp)"\s*:/;

export function validateMcpConfigScope(scope: unknown): string | null {
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) return "scope: must be an object such as {\"paths\": [\"/home/me/.cursor\"]}";
  const paths = (scope as Record<string, unknown>).paths;
  if (!Array.isArray(paths)) return "scope.paths: must be a list of directories or files to scan";
  if (paths.length === 0) return "scope.paths: must name at least one directory or file";
  if (paths.length > DEFAULT_LIMITS.maxPaths) return `scope.paths: at most ${DEFAULT_LIMITS.maxPaths} paths`;
  for (const [i, p] of paths.entries()) {
    if (typeof p !== "string" || p.trim() === "") return `scope.paths[${i}]: must be a non-empty path string`;
    if (p.length > 4096) return `scope.paths[${i}]: longer than 4096 characters`;
    if (p.includes("\0")) return `scope.paths[${i}]: must not contain a NUL character`;
  }
  const extra = Object.keys(scope).filter((k) => k !== "paths");
  if (extra.length) return `scope.${extra[0]}: unknown field (scan.mcp_config takes only paths)`;
  return null;
}

// ------------------------------------------------------------------------------------------------------ graph types

export interface GraphAsset {
  id: string;
  type: "mcp_client_config" | "mcp_server" | "package";
  name: string;
  properties: Record<string, unknown>;
}

export interface GraphRelation {
  type: "declares" | "runs";
  from: string;
  to: string;
  properties?: Record<string, unknown>;
}

type Warning = ConnectorOutput["warnings"][number];

interface Candidate {
  file: string;
  /** Named by the scope itself or by a known config file name: problems with it are reported, not skipped. */
  explicit: boolean;
}

// ------------------------------------------------------------------------------------------------------ discovery

interface WalkState {
  entries: number;
  limitWarned: boolean;
}

async function discover(root: string, limits: ScanLimits, signal: AbortSignal, state: WalkState, warn: (w: Warning) => void): Promise<Candidate[] | null> {
  let stat;
  try {
    stat = await fs.stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    warn({ message: code === "ENOENT" ? "path does not exist" : code === "EACCES" || code === "EPERM" ? "path is not readable (permission denied)" : `path cannot be read (${code ?? "error"})`, where: root });
    return null;
  }
  if (stat.isFile()) return [{ file: root, explicit: true }];
  if (!stat.isDirectory()) {
    warn({ message: "path is neither a file nor a directory", where: root });
    return null;
  }
  const found: Candidate[] = [];
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (queue.length) {
    signal.throwIfAborted();
    const { dir, depth } = queue.shift()!;
    let dirents;
    try {
      dirents = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      warn({ message: `directory cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, where: dir });
      continue;
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      if (++state.entries > limits.maxEntries) {
        if (!state.limitWarned) warn({ message: `stopped after ${limits.maxEntries} directory entries: narrow scope.paths to scan the rest`, where: dir });
        state.limitWarned = true;
        return found;
      }
      const full = path.join(dir, d.name);
      if (d.isDirectory()) {
        // Symlinked directories are not followed (isDirectory() is false for them): no cycles, no escaping the tree.
        if (SKIPPED_DIRS.has(d.name)) continue;
        if (depth + 1 > limits.maxDepth) continue;
        queue.push({ dir: full, depth: depth + 1 });
      } else if ((d.isFile() || d.isSymbolicLink()) && /\.jsonc?$/i.test(d.name)) {
        found.push({ file: full, explicit: knownConfigName(d.name) });
      }
    }
  }
  return found;
}

// ------------------------------------------------------------------------------------------------------ reading

interface ReadConfig {
  file: string;
  format: "json" | "jsonc";
  parsed: ParsedConfig;
}

async function readCandidate(c: Candidate, limits: ScanLimits, warn: (w: Warning) => void): Promise<ReadConfig | null> {
  let text: string;
  try {
    const st = await fs.stat(c.file);
    if (!st.isFile()) return null;
    if (st.size > limits.maxFileBytes) {
      if (c.explicit) warn({ message: `file is larger than ${limits.maxFileBytes} bytes and was not read`, where: c.file });
      return null;
    }
    text = await fs.readFile(c.file, "utf8");
  } catch (err) {
    if (c.explicit) warn({ message: `file cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, where: c.file });
    return null;
  }
  if (!c.explicit && !SHAPE_HINT.test(text)) return null;

  // Always parsed leniently, so a config with comments is still inventoried; clients that want strict JSON get a warning below.
  const result = parseJsonOrJsonc(text, true);
  if (!result.ok) {
    // An unknown-named file that merely mentions "servers" is not ours to complain about; a settings.json in a
    // client's directory that mentions "mcp" is.
    const clientSettings = path.basename(c.file).toLowerCase() === "settings.json" && clientFromPath(c.file) !== null;
    if (c.explicit || clientSettings) warn({ message: result.message, where: `${c.file}:${result.line}:${result.column}` });
    return null;
  }
  const parsed = parseConfig(c.file, result.value, c.explicit);
  if (!parsed) {
    if (c.explicit && !(path.basename(c.file).toLowerCase() === "settings.json")) warn({ message: "not an MCP client config: no mcpServers or servers object", where: c.file });
    return null;
  }
  if (result.jsonc && !clientAcceptsJsonc(parsed.client)) {
    warn({ message: `file has comments or trailing commas, which ${parsed.client} does not accept: the client may fail to load it`, where: c.file });
  }
  return { file: c.file, format: result.jsonc ? "jsonc" : "json", parsed };
}

// ------------------------------------------------------------------------------------------------------ graph

function packageAssetId(p: PackageRef): string {
  const type = p.ecosystem === "oci" ? "docker" : p.ecosystem;
  const name = p.ecosystem === "npm" ? p.name.replace(/^@/, "%40") : p.ecosystem === "pypi" ? p.name.toLowerCase().replace(/[._]+/g, "-") : p.name;
  const version = p.digest ?? p.version;
  return `pkg:${type}/${name}${version ? `@${version}` : ""}`;
}

function buildGraph(configs: ReadConfig[]) {
  const assets = new Map<string, GraphAsset>();
  const relations: GraphRelation[] = [];
  const findings: McpFinding[] = [];
  for (const cfg of configs) {
    const fileId = `mcp_client_config:${cfg.file}`;
    assets.set(fileId, {
      id: fileId,
      type: "mcp_client_config",
      name: cfg.file,
      properties: {
        path: cfg.file,
        client: cfg.parsed.client,
        client_identified_by: cfg.parsed.clientBy,
        format: cfg.format,
        top_level_keys: cfg.parsed.topLevelKeys,
        servers: cfg.parsed.servers.length,
        inputs: cfg.parsed.inputs,
      },
    });
    for (const s of cfg.parsed.servers) {
      const serverId = `mcp_server:${cfg.file}#${s.pointer}`;
      assets.set(serverId, {
        id: serverId,
        type: "mcp_server",
        name: s.name,
        properties: {
          client: cfg.parsed.client,
          file: cfg.file,
          pointer: s.pointer,
          transport: s.transport,
          transport_inferred: s.transportInferred,
          command: s.command,
          program: s.program,
          shell: s.shell ? { shell: s.shell.shell, flag: s.shell.flag, inner_program: s.shell.innerProgram } : null,
          args: s.args,
          cwd: s.cwd,
          env_keys: s.envKeys,
          header_keys: s.headerKeys,
          env_file: s.envFile,
          url: s.url,
          disabled: s.disabled,
          package: s.package ? { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version, pinned: s.package.pinned } : null,
          other_keys: s.otherKeys,
        },
      });
      relations.push({ type: "declares", from: fileId, to: serverId });
      if (s.package) {
        const pkgId = packageAssetId(s.package);
        if (!assets.has(pkgId)) {
          assets.set(pkgId, {
            id: pkgId,
            type: "package",
            name: s.package.name,
            properties: { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version, pinned: s.package.pinned, ...(s.package.digest ? { digest: s.package.digest } : {}) },
          });
        }
        relations.push({ type: "runs", from: serverId, to: pkgId, properties: { launcher: s.package.launcher, requested: s.package.requested, auto_install: s.package.autoInstall ?? false } });
      }
      findings.push(...serverFindings(s, serverId, cfg.file));
    }
  }
  return { assets: [...assets.values()], relations, findings };
}

function redactedBundle(configs: ReadConfig[]): RawArtifact | null {
  if (!configs.length) return null;
  const doc = {
    format: "cairn.mcp-config.redacted/v1",
    note: "MCP-relevant parts of each config, keyed by JSON pointer; env and header values (and anything secret-looking) replaced by [REDACTED]; comments dropped.",
    files: configs.map((c) => ({ path: c.file, client: c.parsed.client, format: c.format, top_level_keys: c.parsed.topLevelKeys, content: c.parsed.redacted })),
  };
  return { kind: REDACTED_CONFIGS_ARTIFACT, contentType: "application/json", body: Buffer.from(JSON.stringify(doc, null, 2)) };
}

// ------------------------------------------------------------------------------------------------------ connector

export async function collectMcpConfigs(input: ConnectorInput, limits: ScanLimits = DEFAULT_LIMITS): Promise<ConnectorOutput> {
  const problem = validateMcpConfigScope(input.scope);
  if (problem) throw Object.assign(new Error(`Invalid scope: ${problem}`), { permanent: true });
  const { signal } = input;
  const warnings: Warning[] = [];
  const warn = (w: Warning) => {
    warnings.push(w);
    input.log("warn", w.where ? `${w.where}: ${w.message}` : w.message);
  };

  // Relative paths are resolved against the worker's working directory.
  const roots = [...new Set((input.scope.paths as string[]).map((p) => path.resolve(p)))];
  const state: WalkState = { entries: 0, limitWarned: false };
  const candidates = new Map<string, Candidate>();
  let readable = 0;
  for (const root of roots) {
    signal.throwIfAborted();
    const refused = await pathRefusal(input.paths, root);
    if (refused) {
      warn({ message: `not scanned: ${refused}`, where: root });
      continue;
    }
    const found = await discover(root, limits, signal, state, warn);
    if (found === null) continue;
    readable++;
    for (const c of found) {
      const prior = candidates.get(c.file);
      candidates.set(c.file, { file: c.file, explicit: c.explicit || (prior?.explicit ?? false) });
    }
  }
  if (readable === 0) {
    const detail = warnings.map((w) => `${w.where}: ${w.message}`).join("; ");
    throw Object.assign(new Error(`None of the scope paths could be scanned (${detail})`), { permanent: true });
  }

  const configs: ReadConfig[] = [];
  for (const c of candidates.values()) {
    signal.throwIfAborted();
    const refusedFile = await pathRefusal(input.paths, c.file);
    if (refusedFile) {
      warn({ message: `not read: ${refusedFile}`, where: c.file });
      continue;
    }
    if (configs.length >= limits.maxConfigs) {
      warn({ message: `stopped after ${limits.maxConfigs} config files: narrow scope.paths to scan the rest`, where: c.file });
      break;
    }
    const read = await readCandidate(c, limits, warn);
    if (!read) continue;
    for (const w of read.parsed.warnings) warn(w);
    configs.push(read);
  }

  const graph = buildGraph(configs);
  const servers = configs.flatMap((c) => c.parsed.servers);
  const byClient: Partial<Record<McpClient, number>> = {};
  for (const c of configs) byClient[c.parsed.client] = (byClient[c.parsed.client] ?? 0) + c.parsed.servers.length;
  const summary = {
    paths: roots.length,
    files_considered: candidates.size,
    configs: configs.length,
    servers: servers.length,
    stdio: servers.filter((s) => s.transport === "stdio").length,
    http: servers.filter((s) => s.transport === "http").length,
    sse: servers.filter((s) => s.transport === "sse").length,
    packages: graph.assets.filter((a) => a.type === "package").length,
    findings: graph.findings.length,
    servers_by_client: byClient,
  };
  input.log("info", `found ${configs.length} MCP client config(s) with ${servers.length} server(s) in ${roots.length} path(s); ${graph.findings.length} finding(s)`);
  const artifact = redactedBundle(configs);
  return { items: servers.length, summary, graph, artifacts: artifact ? [artifact] : [], warnings };
}

export const mcpConfigConnector: Connector = {
  kind: MCP_CONFIG_KIND,
  validateScope: validateMcpConfigScope,
  collect: (input) => collectMcpConfigs(input),
};
