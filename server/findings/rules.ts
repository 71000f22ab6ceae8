// The built-in rules catalogue: what each rule id means, its default severity and which producer emits it. Producers
// (connectors, push ingest) may emit rules that are not listed here; they are recorded as given and shown as
// "uncatalogued". Producers that own rules register their metadata with registerRules at import time.
import type { Severity } from "../../db/schema/findings.ts";

export interface RuleMeta {
  id: string;
  title: string;
  description: string;
  /** The severity producers use unless the finding says otherwise (policies may override it). */
  severity: Severity;
  /** Who emits it: a source kind or another producer name. */
  producer: string;
  category: string;
}

const catalogue = new Map<string, RuleMeta>();

export function registerRules(rules: RuleMeta[]): void {
  for (const r of rules) catalogue.set(r.id, r);
}

export function ruleMeta(id: string): RuleMeta | null {
  return catalogue.get(id) ?? null;
}

export function allRules(): RuleMeta[] {
  return [...catalogue.values()].sort((a, b) => a.id.localeCompare(b.id));
}

registerRules([
  {
    id: "mcp.inline_secret",
    title: "Secret written inline in an MCP config",
    description:
      "An env value, header value or argument of an MCP server holds a literal credential instead of a reference (${VAR}, ${input:…}, an env file). Anyone who can read the config file, its backups or its repository has the secret. Only the key name is reported; the value never leaves the scanner.",
    severity: "high",
    producer: "scan.mcp_config",
    category: "secrets",
  },
  {
    id: "mcp.unpinned_package",
    title: "MCP server package fetched without a pinned version",
    description:
      "npx, bunx, pnpm/yarn dlx, uvx, uv tool run or pipx run starts a package by name or range, so every start may run different code from the registry. High when npx/bunx run with -y (installed without asking), medium otherwise. Pin an exact version.",
    severity: "high",
    producer: "scan.mcp_config",
    category: "supply_chain",
  },
  {
    id: "mcp.plain_http_remote",
    title: "Remote MCP server reached over plain http",
    description: "An http or sse server whose URL is http:// to a host other than this machine: requests, tool results and any headers travel unencrypted.",
    severity: "high",
    producer: "scan.mcp_config",
    category: "transport",
  },
  {
    id: "mcp.broad_filesystem_root",
    title: "Filesystem MCP server granted / or a home directory",
    description: "A filesystem MCP server is given the root directory, a drive root or a whole home directory, so the model can read (and often write) every file there, including keys and credentials.",
    severity: "high",
    producer: "scan.mcp_config",
    category: "least_privilege",
  },
  {
    id: "mcp.shell_wrapped_command",
    title: "MCP server started through a shell",
    description:
      "The server command is a shell (sh -c, bash -c, zsh -c, cmd /c, powershell -Command, pwsh -c) running a command string. The real program is hidden from inventory and allow-lists, and the string is open to expansion and injection. Start the server program directly.",
    severity: "medium",
    producer: "scan.mcp_config",
    category: "execution",
  },
]);
