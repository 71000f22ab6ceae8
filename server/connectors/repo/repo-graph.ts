// A scanned repository as a normalized graph: the repository, its manifest files, the packages they declare or lock
// (keyed by purl), package-to-package dependencies from lockfiles, the MCP configs and servers inside it, and
// findings (MCP checks from scan.mcp_config; secret-like strings with redacted snippets).
import path from "node:path";
import { createHash } from "node:crypto";
import { serverFindings, type McpFinding } from "../mcp-config/findings.ts";
import type { PackageRef } from "../mcp-config/package-spec.ts";
import { purlOf, resolveInstallPath, type DeclaredPackage } from "./manifests/index.ts";
import { redactedSnippet, secretFingerprint } from "./secrets.ts";
import type { ScannedManifest, TreeScan } from "./scan-tree.ts";

export interface RepoTarget {
  /** Asset id: `repo:<url>` for a clone, `repo:<absolute path>` for a local checkout. */
  key: string;
  /** What follows `repo:`: the prefix of every file-level asset id in this repository. */
  ref: string;
  name: string;
  properties: Record<string, unknown>;
}

export interface GraphAsset {
  id: string;
  type: "repository" | "file" | "package" | "mcp_client_config" | "mcp_server";
  name: string;
  properties: Record<string, unknown>;
}

export interface GraphRelation {
  type: "contains" | "declares" | "locks" | "depends_on" | "runs";
  from: string;
  to: string;
  properties?: Record<string, unknown>;
}

export interface RepoFinding {
  fingerprint: string;
  rule: string;
  severity: "critical" | "high" | "medium" | "low" | "info";
  title: string;
  asset: string;
  where: string;
  details: Record<string, unknown>;
}

export interface RepoGraph {
  assets: GraphAsset[];
  relations: GraphRelation[];
  findings: RepoFinding[];
}

/** The same key scan.mcp_config gives a package an MCP server runs, so both connectors meet on one asset. */
function mcpPackageId(p: PackageRef): string {
  const type = p.ecosystem === "oci" ? "docker" : p.ecosystem;
  const name = p.ecosystem === "npm" ? p.name.replace(/^@/, "%40") : p.ecosystem === "pypi" ? p.name.toLowerCase().replace(/[._]+/g, "-") : p.name;
  const version = p.digest ?? p.version;
  return `pkg:${type}/${name}${version ? `@${version}` : ""}`;
}

const dirOf = (file: string) => {
  const d = path.posix.dirname(file);
  return d === "." ? "" : d;
};

export function buildRepoGraph(target: RepoTarget, scan: TreeScan): RepoGraph {
  const assets = new Map<string, GraphAsset>();
  const relations: GraphRelation[] = [];
  const relationKeys = new Set<string>();
  const findings: RepoFinding[] = [];
  const addRelation = (r: GraphRelation) => {
    const k = `${r.type}\u0000${r.from}\u0000${r.to}`;
    if (relationKeys.has(k)) return;
    relationKeys.add(k);
    relations.push(r);
  };
  const fileId = (file: string) => `file:${target.ref}/${file}`;

  assets.set(target.key, { id: target.key, type: "repository", name: target.name, properties: target.properties });

  // Lockfiles first, so a package.json can point at the exact version its lockfile installed.
  const lockIds = new Map<ScannedManifest, Map<string, string>>();
  const packageId = (p: DeclaredPackage, version: string | null) => purlOf(p.ecosystem, p.name, version);
  const addPackage = (p: DeclaredPackage, version: string | null): string => {
    const id = packageId(p, version);
    if (!assets.has(id)) assets.set(id, { id, type: "package", name: p.name, properties: { ecosystem: p.ecosystem, name: p.name, version, purl: id } });
    return id;
  };

  for (const m of scan.manifests) {
    const id = fileId(m.file);
    assets.set(id, {
      id,
      type: "file",
      name: m.file,
      properties: {
        path: m.file,
        repository: target.key,
        manifest: m.kind,
        role: m.parsed.role,
        ecosystem: m.parsed.ecosystem,
        format: m.parsed.format,
        project: m.parsed.project,
        sha256: m.sha256,
        size: m.size,
        packages: m.parsed.packages.length,
      },
    });
    addRelation({ type: "contains", from: target.key, to: id });
  }

  for (const m of scan.manifests.filter((x) => x.parsed.role === "lockfile")) {
    const ids = new Map<string, string>();
    for (const p of m.parsed.packages) ids.set(p.key, addPackage(p, p.version));
    lockIds.set(m, ids);
    const from = fileId(m.file);
    for (const p of m.parsed.packages) {
      const to = ids.get(p.key)!;
      addRelation({
        type: "locks",
        from,
        to,
        properties: {
          direct: p.direct,
          ...(p.dev ? { dev: true } : {}),
          ...(p.optional ? { optional: true } : {}),
          ...(p.requested ? { requested: p.requested } : {}),
          ...(p.source && p.source.type !== "registry" ? { source: p.source } : {}),
        },
      });
      for (const dep of p.dependsOn ?? []) {
        const target = ids.get(dep);
        if (target && target !== to) addRelation({ type: "depends_on", from: to, to: target });
      }
    }
  }

  const npmLocks = scan.manifests.filter((x) => x.kind === "package-lock.json");
  for (const m of scan.manifests.filter((x) => x.parsed.role === "manifest")) {
    const from = fileId(m.file);
    // package.json: the nearest package-lock.json at or above its folder (a workspace's lock sits at the root).
    const here = dirOf(m.file);
    const lock =
      m.kind === "package.json"
        ? npmLocks
            .filter((l) => {
              const d = dirOf(l.file);
              return d === "" || here === d || here.startsWith(`${d}/`);
            })
            .sort((a, b) => dirOf(b.file).length - dirOf(a.file).length)[0]
        : undefined;
    const lockKeys = lock ? new Set(lock.parsed.packages.map((p) => p.key)) : null;
    for (const p of m.parsed.packages) {
      let to: string | null = null;
      if (lock && lockKeys) {
        const rel = dirOf(lock.file) === "" ? here : here.slice(dirOf(lock.file).length + 1);
        const installed = resolveInstallPath(lockKeys, rel, p.key);
        if (installed) to = lockIds.get(lock)?.get(installed) ?? null;
      }
      to ??= addPackage(p, p.version);
      addRelation({
        type: "declares",
        from,
        to,
        properties: {
          direct: p.direct,
          ...(p.requested ? { requested: p.requested } : {}),
          ...(p.dev ? { dev: true } : {}),
          ...(p.optional ? { optional: true } : {}),
          ...(p.source && p.source.type !== "registry" ? { source: p.source } : {}),
          ...(lock && to !== packageId(p, p.version) ? { locked_by: lock.file } : {}),
        },
      });
    }
  }

  for (const cfg of scan.mcpConfigs) {
    const configId = `mcp_client_config:${target.ref}/${cfg.file}`;
    assets.set(configId, {
      id: configId,
      type: "mcp_client_config",
      name: cfg.file,
      properties: {
        path: cfg.file,
        repository: target.key,
        client: cfg.parsed.client,
        client_identified_by: cfg.parsed.clientBy,
        format: cfg.format,
        top_level_keys: cfg.parsed.topLevelKeys,
        servers: cfg.parsed.servers.length,
        inputs: cfg.parsed.inputs,
      },
    });
    addRelation({ type: "contains", from: target.key, to: configId });
    for (const s of cfg.parsed.servers) {
      const serverId = `mcp_server:${target.ref}/${cfg.file}#${s.pointer}`;
      assets.set(serverId, {
        id: serverId,
        type: "mcp_server",
        name: s.name,
        properties: {
          client: cfg.parsed.client,
          file: cfg.file,
          repository: target.key,
          pointer: s.pointer,
          transport: s.transport,
          transport_inferred: s.transportInferred,
          command: s.command,
          program: s.program,
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
      addRelation({ type: "declares", from: configId, to: serverId });
      if (s.package) {
        const pkgId = mcpPackageId(s.package);
        if (!assets.has(pkgId)) {
          assets.set(pkgId, {
            id: pkgId,
            type: "package",
            name: s.package.name,
            properties: { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version, pinned: s.package.pinned, ...(s.package.digest ? { digest: s.package.digest } : {}) },
          });
        }
        addRelation({ type: "runs", from: serverId, to: pkgId, properties: { launcher: s.package.launcher, requested: s.package.requested, auto_install: s.package.autoInstall ?? false } });
      }
      findings.push(...serverFindings(s, serverId, cfg.file).map((f: McpFinding): RepoFinding => ({ ...f, details: { ...f.details, repository: target.key } })));
    }
  }

  for (const s of scan.secrets) {
    // One finding per distinct secret per file and rule; every line it appears on is listed.
    const groups = new Map<string, typeof s.matches>();
    for (const m of s.matches) {
      const k = `${m.rule.id}\u0000${createHash("sha256").update(m.identity).digest("hex")}`;
      groups.set(k, [...(groups.get(k) ?? []), m]);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const lineText = s.lines.get(first.line) ?? "";
      const onLine = s.matches.filter((m) => m.line === first.line);
      findings.push({
        fingerprint: secretFingerprint(target.key, s.file, first.rule.id, first.identity),
        rule: first.rule.id,
        severity: first.rule.severity,
        title: `${first.rule.title} in ${s.file}`,
        asset: target.key,
        where: `${s.file}:${first.line}`,
        details: {
          file: s.file,
          line: first.line,
          column: first.column,
          lines: [...new Set(group.map((m) => m.line))],
          snippet: redactedSnippet(lineText, onLine),
          ...(s.dropped ? { more_matches_in_file: s.dropped } : {}),
        },
      });
    }
  }

  return { assets: [...assets.values()], relations, findings };
}
