// The cheap, unambiguous checks on an MCP inventory: inline secrets (reported by key only), packages fetched
// unpinned at every start (also behind a shell), servers started through a shell's command string, plain-http
// remotes off this machine, and filesystem servers granted `/` or a home dir. They travel in the connector's graph;
// the evaluate stage applies the policy bindings in force to them (rule metadata: server/findings/rules.ts).
import { createHash } from "node:crypto";
import type { ServerEntry } from "./parse-config.ts";

export type Severity = "critical" | "high" | "medium" | "low" | "info";

export interface McpFinding {
  /** Stable across runs for the same problem in the same place: what lets a re-run update instead of duplicate. */
  fingerprint: string;
  rule: string;
  severity: Severity;
  title: string;
  /** The asset the finding is about (an mcp_server asset id). */
  asset: string;
  /** File and JSON pointer. */
  where: string;
  details: Record<string, unknown>;
}

export const RULES = {
  inlineSecret: "mcp.inline_secret",
  unpinnedPackage: "mcp.unpinned_package",
  plainHttpRemote: "mcp.plain_http_remote",
  broadFilesystemRoot: "mcp.broad_filesystem_root",
  shellWrappedCommand: "mcp.shell_wrapped_command",
} as const;

function fingerprint(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}

/** Loopback, unspecified and *.localhost hosts: plain http there never leaves the machine. */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (!h || h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "::" || h === "0.0.0.0") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `/`, `~`, `$HOME`, `/Users/<name>`, `/home/<name>`, `/root`, `C:\Users\<name>`, `C:\` (a trailing slash is ignored). */
export function isBroadRoot(dir: string): boolean {
  const d = dir.trim().replace(/[\\/]+$/, "") || "/";
  if (d === "/" || d === "~" || /^[A-Za-z]:$/.test(d)) return true;
  if (/^(\$HOME|\$\{HOME\}|\$\{env:HOME\}|\$\{userHome\}|%USERPROFILE%)$/.test(d)) return true;
  if (d === "/root") return true;
  return /^\/(Users|home)\/[^/]+$/.test(d) || /^[A-Za-z]:[\\/]Users[\\/][^\\/]+$/i.test(d);
}

function isFilesystemServer(server: ServerEntry): boolean {
  const name = server.package?.name ?? "";
  return /(^|[/-])server-filesystem$|filesystem-mcp|mcp-server-filesystem|^filesystem$/i.test(name);
}

export function serverFindings(server: ServerEntry, assetId: string, file: string): McpFinding[] {
  const where = `${file}#${server.pointer}`;
  const out: McpFinding[] = [];
  const add = (rule: string, severity: Severity, title: string, discriminator: string, details: Record<string, unknown>) =>
    out.push({ fingerprint: fingerprint(rule, assetId, discriminator), rule, severity, title, asset: assetId, where, details });

  for (const key of server.inlineSecretEnvKeys) {
    add(RULES.inlineSecret, "high", `Secret written inline in env ${key} of MCP server "${server.name}"`, `env:${key}`, { location: "env", key });
  }
  for (const key of server.inlineSecretHeaderKeys) {
    add(RULES.inlineSecret, "high", `Secret written inline in header ${key} of MCP server "${server.name}"`, `header:${key}`, { location: "headers", key });
  }
  for (const r of server.redactedArgs) {
    add(RULES.inlineSecret, "high", `Secret written inline in the arguments of MCP server "${server.name}"`, `arg:${r.index}`, { location: "args", index: r.index, flag: r.flag });
  }

  const pkg = server.package;
  if (pkg && !pkg.pinned && (pkg.ecosystem === "npm" || pkg.ecosystem === "pypi")) {
    add(RULES.unpinnedPackage, pkg.autoInstall ? "high" : "medium", `MCP server "${server.name}" runs ${pkg.name} without a pinned version`, `${pkg.ecosystem}:${pkg.name}`, {
      ecosystem: pkg.ecosystem,
      package: pkg.name,
      requested: pkg.requested,
      launcher: pkg.launcher,
      auto_install: pkg.autoInstall ?? false,
    });
  }

  if (server.url && (server.transport === "http" || server.transport === "sse")) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(server.url);
    } catch {
      parsed = null;
    }
    if (parsed && parsed.protocol === "http:" && !isLocalHost(parsed.hostname)) {
      add(RULES.plainHttpRemote, "high", `MCP server "${server.name}" is reached over plain http at ${parsed.host}`, `url:${parsed.host}`, { host: parsed.host, transport: server.transport });
    }
  }

  if (server.shell) {
    const { shell, flag, innerProgram } = server.shell;
    add(RULES.shellWrappedCommand, "medium", `MCP server "${server.name}" is started through ${shell} ${flag}${innerProgram ? ` (running ${innerProgram})` : ""}`, `shell:${shell}`, {
      shell,
      flag,
      inner_program: innerProgram,
      launcher: server.program,
    });
  }

  if (isFilesystemServer(server)) {
    for (const dir of server.serverArgs.filter((a) => !a.startsWith("-") && isBroadRoot(a))) {
      add(RULES.broadFilesystemRoot, "high", `Filesystem MCP server "${server.name}" is granted ${dir}`, `root:${dir}`, { root: dir, package: server.package?.name });
    }
  }
  return out;
}
