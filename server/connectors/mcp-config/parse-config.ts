// One MCP client config file → which client reads it and the servers it declares. Knows the shapes the clients
// write: `mcpServers` (Claude Desktop, Claude Code, Cursor, Windsurf, Cline), `servers` + `inputs` (VS Code
// mcp.json, and Cursor files written VS Code-style), `mcp.servers` in VS Code settings.json, and per-project
// `projects.<dir>.mcpServers` in Claude Code's ~/.claude.json. Values of env and headers are never kept.
import path from "node:path";
import { launchInfo, splitCommand, type PackageRef, type ShellWrap } from "./package-spec.ts";
import { REDACTED, isReferenceOrPlaceholder, looksLikeInlineSecret, sanitizeArgs, sanitizeUrl, secretName } from "./sanitize.ts";

export const mcpClients = ["claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "cline", "unknown"] as const;
export type McpClient = (typeof mcpClients)[number];
export type Transport = "stdio" | "http" | "sse";

/** How the client was recognised: its file name, the directory it sits in, or only the JSON shape. */
export type ClientEvidence = "file name" | "directory" | "shape";

export interface ClientGuess {
  client: McpClient;
  by: ClientEvidence;
}

// Clients whose config parser accepts comments and trailing commas.
const JSONC_CLIENTS = new Set<McpClient>(["vscode", "unknown"]);

export function clientAcceptsJsonc(client: McpClient): boolean {
  return JSONC_CLIENTS.has(client);
}

/** File names that are MCP client configs whatever they contain (a parse failure there is worth a warning). */
export function knownConfigName(fileName: string): boolean {
  return ["claude_desktop_config.json", ".mcp.json", ".claude.json", "mcp_config.json", "cline_mcp_settings.json", "mcp.json"].includes(fileName.toLowerCase());
}

function directoryHint(filePath: string): McpClient | null {
  const parts = filePath.split(/[\\/]/).map((p) => p.toLowerCase());
  if (parts.includes(".cursor")) return "cursor";
  if (parts.includes(".vscode") || parts.includes(".vscode-insiders")) return "vscode";
  if (parts.includes(".windsurf") || parts.includes(".codeium")) return "windsurf";
  const user = parts.lastIndexOf("user");
  if (user > 0 && /^code( - insiders)?$|^vscodium$/.test(parts[user - 1]!)) return "vscode";
  return null;
}

/** Which client reads this file, before looking inside it (null: decide by shape). */
export function clientFromPath(filePath: string): ClientGuess | null {
  const name = path.basename(filePath).toLowerCase();
  if (name === "claude_desktop_config.json") return { client: "claude-desktop", by: "file name" };
  if (name === ".mcp.json" || name === ".claude.json") return { client: "claude-code", by: "file name" };
  if (name === "mcp_config.json") return { client: "windsurf", by: "file name" };
  if (name === "cline_mcp_settings.json") return { client: "cline", by: "file name" };
  const hint = directoryHint(filePath);
  if (name === "mcp.json" || name === "settings.json") return hint ? { client: hint, by: "directory" } : null;
  return hint ? { client: hint, by: "directory" } : null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 6901 escaping of one reference token. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

interface ServerContainer {
  pointer: string;
  entries: Record<string, unknown>;
}

function looksLikeServer(entry: unknown): boolean {
  if (!isObject(entry)) return false;
  return typeof entry.command === "string" || typeof entry.url === "string" || typeof entry.serverUrl === "string" || ["stdio", "http", "sse", "streamable-http", "streamablehttp", "streamable_http"].includes(String(entry.type ?? "").toLowerCase());
}

/** Where servers are declared in this document. `strict`: every candidate object must look like a server map. */
function serverContainers(doc: Record<string, unknown>, fileName: string, strict: boolean): ServerContainer[] {
  const found: ServerContainer[] = [];
  const take = (pointer: string, value: unknown) => {
    if (!isObject(value)) return;
    const entries = Object.values(value);
    if (strict && (entries.length === 0 || !entries.some(looksLikeServer))) return;
    found.push({ pointer, entries: value });
  };
  take("/mcpServers", doc.mcpServers);
  take("/servers", doc.servers);
  if (fileName === "settings.json" || !strict) {
    if (isObject(doc.mcp)) take("/mcp/servers", doc.mcp.servers);
    take(`/${pointerToken("mcp.servers")}`, doc["mcp.servers"]);
  }
  if (fileName === ".claude.json" && isObject(doc.projects)) {
    for (const [dir, project] of Object.entries(doc.projects)) {
      if (isObject(project)) take(`/projects/${pointerToken(dir)}/mcpServers`, project.mcpServers);
    }
  }
  return found;
}

export interface ServerEntry {
  name: string;
  /** JSON pointer of the entry inside its file. */
  pointer: string;
  transport: Transport | null;
  /** True when the transport was not written down and was inferred (from the URL or the presence of a command). */
  transportInferred: boolean;
  /** As written, with secret-looking words replaced. */
  command: string | null;
  /** The entry's `args` with secret values replaced (`command` may carry more when written as one string). */
  args: string[];
  cwd: string | null;
  /** Environment variable names (from `env`, and from `docker run -e`): never their values. */
  envKeys: string[];
  /** Literal env values that look like secrets: the keys only. */
  inlineSecretEnvKeys: string[];
  headerKeys: string[];
  inlineSecretHeaderKeys: string[];
  /** Argument positions whose values were removed because they looked like secrets. */
  redactedArgs: { index: number; flag: string | null }[];
  envFile: string | null;
  /** The remote URL with credentials and secret query parameters removed. */
  url: string | null;
  disabled: boolean;
  package: PackageRef | null;
  /** The resolved program (`npx`, `docker`, `python3`, …). */
  program: string | null;
  /** Arguments after the package/image (what a filesystem server is granted), as the program receives them. */
  serverArgs: string[];
  /** Set when the command is a shell running a command string (`bash -c "…"`, `cmd /c …`, `powershell -Command …`). */
  shell: ShellWrap | null;
  /** Keys of the entry beyond the ones read here (names only): `disabledTools`, `metadata`, `gallery`, … */
  otherKeys: string[];
}

export interface InputDecl {
  id: string;
  type: string | null;
  password: boolean;
}

export interface ParsedConfig {
  client: McpClient;
  clientBy: ClientEvidence;
  topLevelKeys: string[];
  servers: ServerEntry[];
  inputs: InputDecl[] | null;
  /** The MCP-relevant part of the document with every env and header value (and anything secret-looking) replaced. */
  redacted: Record<string, unknown>;
  warnings: { message: string; where: string }[];
}

const REMOTE_TYPES: Record<string, Transport> = { http: "http", "streamable-http": "http", streamablehttp: "http", streamable_http: "http", sse: "sse" };
const READ_KEYS = new Set(["type", "transport", "command", "args", "env", "envFile", "headers", "url", "serverUrl", "cwd", "disabled", "enabled"]);

function declaredType(entry: Record<string, unknown>): string | null {
  if (typeof entry.type === "string") return entry.type.toLowerCase();
  if (typeof entry.transport === "string") return entry.transport.toLowerCase();
  if (isObject(entry.transport) && typeof entry.transport.type === "string") return entry.transport.type.toLowerCase();
  return null;
}

function parseServer(name: string, pointer: string, entry: Record<string, unknown>, file: string, warnings: ParsedConfig["warnings"]): ServerEntry {
  const where = `${file}#${pointer}`;
  const rawUrl = typeof entry.url === "string" ? entry.url : typeof entry.serverUrl === "string" ? entry.serverUrl : null;
  const typ = declaredType(entry);
  let transport: Transport | null = null;
  let transportInferred = false;
  const remoteType = typ !== null && Object.hasOwn(REMOTE_TYPES, typ) ? REMOTE_TYPES[typ]! : null;
  if (rawUrl || remoteType) {
    if (remoteType) transport = remoteType;
    else {
      // Cursor and Windsurf accept a bare URL and negotiate; an /sse path is the legacy SSE endpoint by convention.
      transport = rawUrl && /\/sse\/?$/.test(rawUrl.split("?")[0]!) ? "sse" : "http";
      transportInferred = true;
    }
  } else if (typeof entry.command === "string" || typ === "stdio") {
    transport = "stdio";
    transportInferred = typ !== "stdio";
  } else {
    warnings.push({ message: `server "${name}" has neither a command nor a URL: its transport is unknown`, where });
  }

  const command = typeof entry.command === "string" ? entry.command : null;
  let rawArgs: string[] = [];
  if (Array.isArray(entry.args)) rawArgs = entry.args.map((a) => (typeof a === "string" ? a : JSON.stringify(a)));
  else if (entry.args !== undefined) warnings.push({ message: `server "${name}": args is not an array and was ignored`, where: `${where}/args` });

  const launch = command ? launchInfo(command, rawArgs) : null;
  const container = launch?.program === "docker" || launch?.program === "podman";
  const sanitized = sanitizeArgs(launch?.args ?? rawArgs, container);
  // `"command": "npx -y pkg --token x"`: the words after the program are arguments and are sanitized as such.
  const inlineArgs = command ? splitCommand(command, []).args.length : 0;
  const shownCommand = command && inlineArgs ? [splitCommand(command, []).program, ...sanitized.args.slice(0, inlineArgs)].join(" ") : command;
  const serverArgs = launch?.shell
    ? sanitizeArgs(launch.innerServerArgs ?? [], false).args
    : launch && launch.serverArgsFrom !== null
      ? sanitized.args.slice(launch.serverArgsFrom)
      : [];

  const envKeys: string[] = [];
  const inlineSecretEnvKeys: string[] = [];
  if (isObject(entry.env)) {
    for (const [key, value] of Object.entries(entry.env)) {
      envKeys.push(key);
      if (typeof value === "string" && looksLikeInlineSecret(key, value)) inlineSecretEnvKeys.push(key);
    }
  } else if (entry.env !== undefined) {
    warnings.push({ message: `server "${name}": env is not an object and was ignored`, where: `${where}/env` });
  }
  for (const key of sanitized.envKeys) if (!envKeys.includes(key)) envKeys.push(key);

  const headerKeys: string[] = [];
  const inlineSecretHeaderKeys: string[] = [];
  if (isObject(entry.headers)) {
    for (const [key, value] of Object.entries(entry.headers)) {
      headerKeys.push(key);
      if (typeof value === "string" && looksLikeInlineSecret(key, value)) inlineSecretHeaderKeys.push(key);
    }
  }

  return {
    name,
    pointer,
    transport,
    transportInferred,
    command: shownCommand,
    args: sanitized.args.slice(inlineArgs),
    cwd: typeof entry.cwd === "string" ? entry.cwd : null,
    envKeys,
    inlineSecretEnvKeys,
    headerKeys,
    inlineSecretHeaderKeys,
    redactedArgs: sanitized.redacted,
    envFile: typeof entry.envFile === "string" ? entry.envFile : null,
    url: rawUrl ? sanitizeUrl(rawUrl) : null,
    disabled: entry.disabled === true || entry.enabled === false,
    package: launch?.package ?? null,
    program: launch?.program ?? null,
    serverArgs,
    shell: launch?.shell ?? null,
    otherKeys: Object.keys(entry).filter((k) => !READ_KEYS.has(k)),
  };
}

/** A copy of a value with secret-named or secret-looking strings replaced and URLs stripped of credentials. */
function redactDeep(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (secretName(key) && !isReferenceOrPlaceholder(value)) return REDACTED;
    if (looksLikeInlineSecret(key, value)) return REDACTED;
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? sanitizeUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, key));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, k)]));
  return value;
}

const allValuesRedacted = (v: unknown) => (isObject(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED])) : v === undefined ? undefined : REDACTED);

function redactedEntry(entry: unknown, server: ServerEntry | undefined): unknown {
  if (!isObject(entry)) return redactDeep(entry);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === "env" || k === "headers") out[k] = allValuesRedacted(v);
    else if (k === "args" && server && Array.isArray(v)) out[k] = server.args;
    else if (k === "command" && server) out[k] = server.command;
    else if ((k === "url" || k === "serverUrl") && typeof v === "string") out[k] = sanitizeUrl(v);
    else out[k] = redactDeep(v, k);
  }
  return out;
}

function parseInputs(doc: Record<string, unknown>): { inputs: InputDecl[] | null; redacted: unknown } {
  if (!Array.isArray(doc.inputs)) return { inputs: null, redacted: undefined };
  const inputs: InputDecl[] = [];
  const redacted = doc.inputs.map((input) => {
    if (!isObject(input)) return redactDeep(input);
    const password = input.password === true;
    inputs.push({ id: String(input.id ?? ""), type: typeof input.type === "string" ? input.type : null, password });
    const copy = redactDeep(input) as Record<string, unknown>;
    if (password && "default" in copy) copy.default = REDACTED;
    return copy;
  });
  return { inputs, redacted };
}

/**
 * Reads the servers out of a parsed document, or returns null when it is not an MCP client config. `explicit`:
 * the file was named by the scope or has a known config name, so an empty or odd config is still reported.
 */
export function parseConfig(filePath: string, doc: unknown, explicit: boolean): ParsedConfig | null {
  if (!isObject(doc)) return null;
  const fileName = path.basename(filePath).toLowerCase();
  const containers = serverContainers(doc, fileName, !explicit);
  if (!containers.length) return null;
  const warnings: ParsedConfig["warnings"] = [];

  // A bare mcp.json: VS Code writes `servers`, Cursor `mcpServers`. Other files are identified only by their shape.
  const guess: ClientGuess =
    clientFromPath(filePath) ??
    (fileName === "mcp.json"
      ? { client: isObject(doc.servers) && !isObject(doc.mcpServers) ? "vscode" : "cursor", by: "shape" }
      : fileName === "settings.json"
        ? { client: "vscode", by: "shape" }
        : { client: "unknown", by: "shape" });

  const servers: ServerEntry[] = [];
  const redacted: Record<string, unknown> = {};
  for (const c of containers) {
    const redactedEntries: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(c.entries)) {
      const pointer = `${c.pointer}/${pointerToken(name)}`;
      if (!isObject(entry)) {
        warnings.push({ message: `server "${name}" is not an object and was skipped`, where: `${filePath}#${pointer}` });
        redactedEntries[name] = redactDeep(entry);
        continue;
      }
      const server = parseServer(name, pointer, entry, filePath, warnings);
      servers.push(server);
      redactedEntries[name] = redactedEntry(entry, server);
    }
    redacted[c.pointer] = redactedEntries;
  }
  const { inputs, redacted: redactedInputs } = parseInputs(doc);
  if (redactedInputs !== undefined) redacted["/inputs"] = redactedInputs;

  return { client: guess.client, clientBy: guess.by, topLevelKeys: Object.keys(doc), servers, inputs, redacted, warnings };
}
