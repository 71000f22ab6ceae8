// A fleet sync: one endpoint's inventory (host, OS, agent version, the MCP client configs found on it). The body is
// validated at the door; the MCP configs are read with the same parser the scan.mcp_config connector uses, and the
// endpoint becomes a host asset with its configs, servers and packages, plus the same MCP findings.
import path from "node:path";
import { z } from "zod";
import { parseConfig, type ParsedConfig } from "../../connectors/mcp-config/parse-config.ts";
import { parseJsonOrJsonc } from "../../connectors/mcp-config/jsonc.ts";
import { serverFindings } from "../../connectors/mcp-config/findings.ts";
import type { PackageRef } from "../../connectors/mcp-config/package-spec.ts";
import type { GraphAsset, GraphFinding, GraphRelation, IngestGraph } from "../graph.ts";

export const MAX_CONFIGS_PER_SYNC = 200;
const MAX_CONFIG_TEXT = 1024 * 1024;

const text = (max: number) => z.string().trim().min(1, "must not be empty").max(max, `at most ${max} characters`);

const configEntry = z
  .object({
    path: text(4096).describe("Where the config was found on the endpoint"),
    client: z.string().max(100).optional().describe("The client that reads it, when the agent knows (informational: the file name and shape decide)"),
    content: z.record(z.string(), z.unknown()).optional().describe("The config, parsed"),
    text: z.string().max(MAX_CONFIG_TEXT, `at most ${MAX_CONFIG_TEXT} characters`).optional().describe("The config as written (JSON or JSONC), when not parsed"),
  })
  .strict()
  .refine((c) => (c.content === undefined) !== (c.text === undefined), { message: "give exactly one of content (parsed JSON) or text (the file as written)" });

export const fleetSyncBody = z
  .object({
    endpoint_id: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, "letters, digits, ., _, : and -, up to 200 characters")
      .optional()
      .describe("A stable id of the endpoint (machine id); the lower-cased hostname when absent"),
    hostname: text(253),
    os: z.object({ name: text(100), version: z.string().max(100).nullable().optional(), arch: z.string().max(50).nullable().optional() }).strict(),
    agent_version: text(100),
    collected_at: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
    mcp_configs: z.array(configEntry).max(MAX_CONFIGS_PER_SYNC, `at most ${MAX_CONFIGS_PER_SYNC} configs per sync`).default([]),
  })
  .strict();

export type FleetSyncBody = z.infer<typeof fleetSyncBody>;

export function endpointKeyOf(body: Pick<FleetSyncBody, "endpoint_id" | "hostname">): string {
  return body.endpoint_id ?? body.hostname.toLowerCase();
}

export interface EndpointInventory {
  graph: IngestGraph;
  configs: number;
  servers: number;
  warnings: { message: string; where: string }[];
  summary: Record<string, unknown>;
}

function packageAssetId(p: PackageRef): string {
  const type = p.ecosystem === "oci" ? "docker" : p.ecosystem;
  const name = p.ecosystem === "npm" ? p.name.replace(/^@/, "%40") : p.ecosystem === "pypi" ? p.name.toLowerCase().replace(/[._]+/g, "-") : p.name;
  const version = p.digest ?? p.version;
  return `pkg:${type}/${name}${version ? `@${version}` : ""}`;
}

/** The endpoint's graph: host → configs → servers → packages, and the MCP findings of each server. */
export function endpointInventory(body: FleetSyncBody): EndpointInventory {
  const key = endpointKeyOf(body);
  const hostId = `host:${key}`;
  const assets = new Map<string, GraphAsset>();
  const relations: GraphRelation[] = [];
  const findings: GraphFinding[] = [];
  const warnings: EndpointInventory["warnings"] = [];
  assets.set(hostId, {
    id: hostId,
    type: "host",
    name: body.hostname,
    properties: { hostname: body.hostname, endpoint_key: key, os: body.os.name, os_version: body.os.version ?? null, arch: body.os.arch ?? null, agent_version: body.agent_version },
  });

  let servers = 0;
  let configs = 0;
  const byClient: Record<string, number> = {};
  for (const [i, entry] of body.mcp_configs.entries()) {
    const where = `/mcp_configs/${i}`;
    let doc: unknown = entry.content;
    if (entry.text !== undefined) {
      const parsed = parseJsonOrJsonc(entry.text, true);
      if (!parsed.ok) {
        warnings.push({ message: `${entry.path}: ${parsed.message} (line ${parsed.line}, column ${parsed.column})`, where: `${where}/text` });
        continue;
      }
      doc = parsed.value;
    }
    const config: ParsedConfig | null = parseConfig(entry.path, doc, true);
    if (!config) {
      warnings.push({ message: `${entry.path}: not an MCP client config (no mcpServers or servers object)`, where });
      continue;
    }
    configs++;
    for (const w of config.warnings) warnings.push({ message: w.message, where: `${where} (${w.where})` });
    const file = `${key}:${entry.path}`;
    const configId = `mcp_client_config:${file}`;
    assets.set(configId, {
      id: configId,
      type: "mcp_client_config",
      name: entry.path,
      properties: { endpoint: key, path: entry.path, client: config.client, client_identified_by: config.clientBy, reported_client: entry.client ?? null, top_level_keys: config.topLevelKeys, servers: config.servers.length },
    });
    relations.push({ type: "has_config", from: hostId, to: configId });
    for (const s of config.servers) {
      servers++;
      byClient[config.client] = (byClient[config.client] ?? 0) + 1;
      const serverId = `mcp_server:${file}#${s.pointer}`;
      assets.set(serverId, {
        id: serverId,
        type: "mcp_server",
        name: s.name,
        properties: {
          endpoint: key,
          client: config.client,
          file: entry.path,
          pointer: s.pointer,
          transport: s.transport,
          command: s.command,
          program: s.program,
          args: s.args,
          env_keys: s.envKeys,
          header_keys: s.headerKeys,
          url: s.url,
          disabled: s.disabled,
          package: s.package ? { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version, pinned: s.package.pinned } : null,
        },
      });
      relations.push({ type: "declares", from: configId, to: serverId });
      if (s.package) {
        const pkgId = packageAssetId(s.package);
        if (!assets.has(pkgId)) {
          assets.set(pkgId, { id: pkgId, type: "package", name: s.package.name, properties: { ecosystem: s.package.ecosystem, name: s.package.name, version: s.package.version, pinned: s.package.pinned } });
        }
        relations.push({ type: "runs", from: serverId, to: pkgId, properties: { launcher: s.package.launcher, requested: s.package.requested, auto_install: s.package.autoInstall ?? false } });
      }
      for (const f of serverFindings(s, serverId, file)) findings.push({ ...f, details: { ...f.details, endpoint: key, hostname: body.hostname } });
    }
  }
  return {
    graph: { assets: [...assets.values()], relations, findings },
    configs,
    servers,
    warnings,
    summary: { configs_reported: body.mcp_configs.length, configs, servers, servers_by_client: byClient, findings: findings.length, config_files: body.mcp_configs.map((c) => path.basename(c.path)).slice(0, 50) },
  };
}

/** The source's whole picture: every endpoint's latest graph, merged (shared packages once). */
export function unionGraphs(graphs: IngestGraph[]): IngestGraph {
  const assets = new Map<string, GraphAsset>();
  const relations = new Map<string, GraphRelation>();
  const findings = new Map<string, GraphFinding>();
  for (const g of graphs) {
    for (const a of g.assets) if (!assets.has(a.id)) assets.set(a.id, a);
    for (const r of g.relations) relations.set(`${r.type}>${r.from}>${r.to}`, r);
    for (const f of g.findings) if (!findings.has(f.fingerprint)) findings.set(f.fingerprint, f);
  }
  return { assets: [...assets.values()], relations: [...relations.values()], findings: [...findings.values()] };
}
