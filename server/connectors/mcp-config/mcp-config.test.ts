// The MCP config scanner against 30 real client configs (fixtures/, published by their authors; facts below are
// from the corpus manifest) and against the hand-made cases the corpus lacks: malformed files, comments, plain-http
// remotes, secrets in arguments. Env and header values must never appear in anything the connector returns.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOutput } from "../contract.ts";
import { collectMcpConfigs, validateMcpConfigScope, type GraphAsset, type GraphRelation } from "./mcp-config.connector.ts";
import { parseJsonOrJsonc, stripJsonc } from "./jsonc.ts";
import { launchInfo } from "./package-spec.ts";
import { sanitizeArgs, sanitizeUrl } from "./sanitize.ts";
import type { McpFinding } from "./findings.ts";

const FIXTURE_DIR = path.join(import.meta.dirname, "fixtures");

interface FixtureFacts {
  file: string;
  client: string;
  /** Where the file was published in its repository (used to lay the corpus out the way clients store it). */
  publishedAs: string;
  jsonc: boolean;
  servers: number;
  stdio: number;
  remote: number;
  names: string[];
  remoteUrls: string[];
  unpinnedNpx: number;
  unpinnedUvx: number;
  docker: number;
  inputs: number | null;
}

// Facts per file, as recorded in the corpus manifest (server names read from the files themselves).
const FIXTURES: FixtureFacts[] = [
  { file: "claude-code/0-1-no__dealbook-plugin.json", client: "claude-code", publishedAs: ".mcp.json", jsonc: false, servers: 1, stdio: 0, remote: 1, names: ["dealbook"], remoteUrls: ["https://mcp.dealbook.no/mcp"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-code/0FL01__Oxide-Agent.json", client: "claude-code", publishedAs: ".mcp.json", jsonc: false, servers: 2, stdio: 2, remote: 0, names: ["rust-mcp-server", "mcp-rust-docs"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-code/0K-cool__zerok-athena.json", client: "claude-code", publishedAs: ".mcp.json", jsonc: false, servers: 3, stdio: 3, remote: 0, names: ["velociraptor", "kali_mcp", "playwright"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-code/0X6C7879__aegissec.json", client: "claude-code", publishedAs: ".mcp.json", jsonc: false, servers: 2, stdio: 1, remote: 1, names: ["aegissec-demo-stdio", "aegissec-demo-http"], remoteUrls: ["http://127.0.0.1:8765/mcp"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-desktop/0x1D-1983__book-api-mcp-docker-compose-bundle.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 2, stdio: 1, remote: 1, names: ["book-api-mcp-server-dotnet", "book-api-mcp-server-minikube"], remoteUrls: ["https://bookapi-mcp-server.default.svc.cluster.local/"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 1, inputs: null },
  { file: "claude-desktop/27priyanshu__MCP-Server-for-DevOps-on-WSL.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 2, stdio: 2, remote: 0, names: ["LeaveManagement", "wsl-devops-management"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-desktop/3rzy__claude-google-workspace-config.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 5, stdio: 5, remote: 0, names: ["brave-search", "filesystem", "github", "gdrive", "google-workspace-mcp"], remoteUrls: [], unpinnedNpx: 4, unpinnedUvx: 0, docker: 1, inputs: null },
  { file: "claude-desktop/8agana__surreal-mind.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["surreal-mind"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-desktop/AbuMareBear__dotfiles.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["filesystem"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "claude-desktop/Ap6pack__mcp-security-suite.json", client: "claude-desktop", publishedAs: "claude_desktop_config.json", jsonc: false, servers: 4, stdio: 4, remote: 0, names: ["security-tools", "asm-tools", "pentest-tools", "redteam-ops"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0x7067__agent-bridge-mcp.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["agent-bridge"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0xJacky__nginx-ui.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 2, stdio: 2, remote: 0, names: ["eslint", "context7"], remoteUrls: [], unpinnedNpx: 2, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0xKHA1ED__agentic-workbench.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["ai-workflow"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0xMilord__renderiq.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 0, remote: 1, names: ["Sentry"], remoteUrls: ["https://mcp.sentry.dev/mcp/renderiq/javascript-nextjs"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0xjcf__MCP_CodeAnalysis.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 0, remote: 1, names: ["codeAnalysis"], remoteUrls: ["http://localhost:3000/mcp"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/0xlawrence__ainews_app.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["supabase"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/100xRahul__agent-k-signoz.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 1, stdio: 0, remote: 1, names: ["signoz"], remoteUrls: ["http://localhost:8000/mcp"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "cursor/1jehuang__jcode.json", client: "cursor", publishedAs: ".cursor/mcp.json", jsonc: false, servers: 8, stdio: 8, remote: 0, names: ["carpai-github", "carpai-postgres", "carpai-docker", "carpai-kubernetes", "carpai-redis", "carpai-sentry", "carpai-aws", "carpai-datadog"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "vscode/04kash__backstage-techdocs-mcp.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["backstage-tehdocs-mcp-server"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "vscode/0GiS0__azure-dev-center-demos.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["Dev Box MCP"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "vscode/0GiS0__youtube-mcp-server.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: true, servers: 2, stdio: 1, remote: 1, names: ["remote-mcp", "stdio-mcp"], remoteUrls: ["http://localhost:3001/sse"], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: 1 },
  { file: "vscode/0xTanzim__nextRush.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 2, stdio: 2, remote: 0, names: ["playwright-extension", "io.github.ChromeDevTools/chrome-devtools-mcp"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: 0 },
  { file: "vscode/12Knocksinna__Office365itpros.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["m365agentstoolkit"], remoteUrls: [], unpinnedNpx: 1, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "vscode/1trippycat__courtlistener-mcp.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["courtlistener-mcp"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "vscode/220631948__cape-connect.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 11, stdio: 6, remote: 5, names: ["context7", "exa", "docker", "open-aware", "github", "supabase", "playwright", "sequentialthinking", "gis-mcp", "carto", "Sentry"], remoteUrls: ["https://open-aware.qodo.ai/mcp", "https://api.githubcopilot.com/mcp/", "https://mcp.supabase.com/mcp", "${input:CARTO_MCP_URL}", "https://mcp.sentry.dev/mcp/ferdi-fd/cape-gis"], unpinnedNpx: 3, unpinnedUvx: 1, docker: 1, inputs: 4 },
  { file: "vscode/23min__FlowTime.json", client: "vscode", publishedAs: ".vscode/mcp.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["flowtime-mcp"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: 0 },
  { file: "windsurf/Chisanan232__ai-development-config.json", client: "windsurf", publishedAs: ".windsurf/mcp_config.json", jsonc: false, servers: 13, stdio: 7, remote: 6, names: ["fetch", "git", "github-mcp-server", "memory", "slack", "sonarqube", "terraform", "jira", "clickup", "codecov", "datadog", "sentry", "confluence"], remoteUrls: ["http://localhost:8100/mcp", "http://localhost:8101/mcp/mcp", "http://localhost:8105/mcp", "http://localhost:8106/mcp", "http://localhost:8107/mcp", "http://localhost:8108/mcp"], unpinnedNpx: 0, unpinnedUvx: 1, docker: 6, inputs: null },
  { file: "windsurf/Kblack0610__.dotfiles.json", client: "windsurf", publishedAs: ".codeium/windsurf/mcp_config.json", jsonc: false, servers: 6, stdio: 6, remote: 0, names: ["sequential-thinking", "filesystem", "mongodb-mcp-server", "memory", "git", "mcp-playwright"], remoteUrls: [], unpinnedNpx: 5, unpinnedUvx: 1, docker: 0, inputs: null },
  { file: "windsurf/jae-labs__dotfiles.json", client: "windsurf", publishedAs: ".codeium/windsurf/mcp_config.json", jsonc: false, servers: 1, stdio: 1, remote: 0, names: ["io.windsurf/context7"], remoteUrls: [], unpinnedNpx: 0, unpinnedUvx: 0, docker: 0, inputs: null },
  { file: "windsurf/phatblat__dotfiles.json", client: "windsurf", publishedAs: ".codeium/windsurf/mcp_config.json", jsonc: false, servers: 3, stdio: 3, remote: 0, names: ["filesystem", "git", "memory"], remoteUrls: [], unpinnedNpx: 2, unpinnedUvx: 1, docker: 0, inputs: null },
];

// The two values the corpus maintainers replaced with same-shape fakes: detectors must fire, output must not echo them.
const FAKE_SECRETS = ["sbp_4385c3dabf1abf1dfe43e7b4cdf1ca6ae2930c89", "kVMi6_aFnqh4vctOIsxESD77829GIr8eoerE-GktHDL"];

type Asset = GraphAsset;
const assetsOf = (out: ConnectorOutput) => out.graph.assets as Asset[];
const findingsOf = (out: ConnectorOutput) => out.graph.findings as McpFinding[];
const serversOf = (out: ConnectorOutput) => assetsOf(out).filter((a) => a.type === "mcp_server");
const configsOf = (out: ConnectorOutput) => assetsOf(out).filter((a) => a.type === "mcp_client_config");

interface Run {
  out: ConnectorOutput;
  logs: string[];
}

async function scan(paths: string[], signal: AbortSignal = new AbortController().signal): Promise<Run> {
  const logs: string[] = [];
  const out = await collectMcpConfigs({ scope: { paths }, credentials: {}, signal, log: (level, message) => logs.push(`${level} ${message}`) });
  return { out, logs };
}

/** Everything a scan hands back, as text: summary, graph, warnings, artifact bodies and log lines. */
function everything(run: Run): string {
  const { artifacts, ...rest } = run.out;
  return [JSON.stringify(rest), ...artifacts.map((a) => a.body.toString("utf8")), ...run.logs].join("\n");
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-mcp-config-"));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe("scan.mcp_config on the real-world corpus", () => {
  it.each(FIXTURES)("$file: servers, names, transports, remote URLs and packages match the manifest", async (f) => {
    const { out } = await scan([path.join(FIXTURE_DIR, f.file)]);
    expect(out.warnings).toEqual([]);
    const servers = serversOf(out);
    expect(servers.map((s) => s.name)).toEqual(f.names);
    expect(out.items).toBe(f.servers);
    expect(servers.filter((s) => s.properties.transport === "stdio")).toHaveLength(f.stdio);
    expect(servers.filter((s) => s.properties.transport === "http" || s.properties.transport === "sse")).toHaveLength(f.remote);
    expect(servers.map((s) => s.properties.url).filter(Boolean)).toEqual(f.remoteUrls);

    const unpinned = findingsOf(out).filter((x) => x.rule === "mcp.unpinned_package");
    expect(unpinned.filter((x) => x.details.ecosystem === "npm")).toHaveLength(f.unpinnedNpx);
    expect(unpinned.filter((x) => x.details.ecosystem === "pypi")).toHaveLength(f.unpinnedUvx);
    expect(servers.filter((s) => s.properties.program === "docker" || s.properties.program === "podman")).toHaveLength(f.docker);

    const [config] = configsOf(out);
    expect(config!.properties.format).toBe(f.jsonc ? "jsonc" : "json");
    const inputs = config!.properties.inputs as unknown[] | null;
    expect(inputs === null ? null : inputs.length).toBe(f.inputs);

    // Every server is joined to its file, and every package to the server that runs it.
    const relations = out.graph.relations as GraphRelation[];
    expect(relations.filter((r) => r.type === "declares")).toHaveLength(f.servers);
    for (const s of servers.filter((x) => x.properties.package)) expect(relations.some((r) => r.type === "runs" && r.from === s.id)).toBe(true);
  });

  it("finds every config in the corpus directory by its shape alone, whatever the file is called", async () => {
    const { out } = await scan([FIXTURE_DIR]);
    expect(out.warnings).toEqual([]);
    expect(out.summary).toMatchObject({ configs: 30, servers: 82, stdio: 64 });
    expect((out.summary.http as number) + (out.summary.sse as number)).toBe(18);
    expect(findingsOf(out).filter((x) => x.rule === "mcp.unpinned_package")).toHaveLength(22 + 4);
    expect(configsOf(out).every((c) => c.properties.client === "unknown" && c.properties.client_identified_by === "shape")).toBe(true);
  });

  it("names the client of each file when the files sit where the clients keep them", async () => {
    const root = path.join(tmp, "clients");
    const expected = new Map<string, string>();
    FIXTURES.forEach((f, i) => {
      const dest = path.join(root, `project-${i}`, f.publishedAs);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(path.join(FIXTURE_DIR, f.file), dest);
      expected.set(dest, f.client);
    });
    const { out } = await scan([root]);
    expect(out.warnings).toEqual([]);
    const seen = new Map(configsOf(out).map((c) => [c.properties.path as string, c.properties.client as string]));
    expect(seen).toEqual(expected);
    expect(out.summary.servers_by_client).toEqual({ "claude-code": 8, "claude-desktop": 15, cursor: 16, vscode: 20, windsurf: 23 });
  });

  it("never returns an env or header value: keys only, in the graph, the stored copy and the log", async () => {
    const values = new Set<string>(FAKE_SECRETS);
    for (const f of FIXTURES) {
      const text = fs.readFileSync(path.join(FIXTURE_DIR, f.file), "utf8");
      const parsed = parseJsonOrJsonc(text, true);
      if (!parsed.ok) throw new Error(`fixture ${f.file} does not parse`);
      const doc = parsed.value as Record<string, Record<string, Record<string, unknown>> | undefined>;
      for (const group of [doc.mcpServers, doc.servers]) {
        for (const entry of Object.values(group ?? {})) {
          for (const block of [entry.env, entry.headers]) for (const v of Object.values((block ?? {}) as Record<string, string>)) if (v.length >= 6) values.add(v);
          // docker run -e KEY=value passes a value just the same.
          const args = (entry.args ?? []) as string[];
          args.forEach((a, i) => {
            if (args[i - 1] === "-e" && a.includes("=") && a.split("=")[1]!.length >= 6) values.add(a.slice(a.indexOf("=") + 1));
          });
        }
      }
    }
    expect(values.size).toBeGreaterThan(30);
    const run = await scan([FIXTURE_DIR]);
    const text = everything(run);
    expect([...values].filter((v) => text.includes(v))).toEqual([]);
    // The keys are there.
    const supabase = serversOf(run.out).find((s) => s.name === "supabase" && (s.properties.file as string).includes("0xlawrence"));
    expect(supabase!.properties.env_keys).toEqual(["SUPABASE_ACCESS_TOKEN"]);
    const redacted = JSON.parse(run.out.artifacts[0]!.body.toString("utf8")) as { files: { path: string; content: Record<string, Record<string, { env?: Record<string, string> }>> }[] };
    const copy = redacted.files.find((x) => x.path.endsWith("0xlawrence__ainews_app.json"))!;
    expect(copy.content["/mcpServers"]!.supabase!.env).toEqual({ SUPABASE_ACCESS_TOKEN: "[REDACTED]" });
  });

  it("reports inline secrets by key, and filesystem servers granted a whole home directory", async () => {
    const { out } = await scan([FIXTURE_DIR]);
    const secrets = findingsOf(out).filter((x) => x.rule === "mcp.inline_secret");
    expect(secrets.map((x) => [path.basename(x.where.split("#")[0]!), x.details.key]).sort()).toEqual([
      ["0xTanzim__nextRush.json", "PLAYWRIGHT_MCP_EXTENSION_TOKEN"],
      ["0xlawrence__ainews_app.json", "SUPABASE_ACCESS_TOKEN"],
    ]);
    // Placeholders (YOUR_GITHUB_TOKEN, ghp_your_…, xoxb-your-…) and references (${VAR}, ${input:…}) are not secrets.
    expect(secrets.every((x) => x.severity === "high")).toBe(true);
    const roots = findingsOf(out).filter((x) => x.rule === "mcp.broad_filesystem_root");
    expect(roots.map((x) => x.details.root).sort()).toEqual(["/Users/abdullahhashim", "/Users/phatblat"]);
    // The WSL server runs `bash -c "source … && python3 devops_server.py"` behind wsl.exe.
    const shells = findingsOf(out).filter((x) => x.rule === "mcp.shell_wrapped_command");
    expect(shells.map((x) => [path.basename(x.where.split("#")[0]!), x.details])).toEqual([
      ["27priyanshu__MCP-Server-for-DevOps-on-WSL.json", { shell: "bash", flag: "-c", inner_program: "python3", launcher: "wsl" }],
    ]);
    // Fingerprints are stable: a second scan finds the same problems under the same fingerprints.
    const again = await scan([FIXTURE_DIR]);
    expect(findingsOf(again.out).map((x) => x.fingerprint)).toEqual(findingsOf(out).map((x) => x.fingerprint));
  });
});

describe("scan.mcp_config on hand-made cases", () => {
  it("reads JSONC where VS Code allows it, keeping // inside strings, and warns where the client wants strict JSON", async () => {
    const jsonc = `{
  // servers for this workspace
  "servers": {
    "docs": { "type": "http", "url": "https://docs.example.com/mcp", /* pinned by ops */ },
    "local": { "command": "node", "args": ["server.js", "--banner=//not-a-comment"], },
  },
}
`;
    const vscode = write("jsonc/.vscode/mcp.json", jsonc);
    const claude = write("jsonc-claude/claude_desktop_config.json", jsonc.replace('"servers"', '"mcpServers"'));
    const { out } = await scan([vscode, claude]);
    const servers = serversOf(out);
    expect(servers.map((s) => s.name)).toEqual(["docs", "local", "docs", "local"]);
    expect(servers[1]!.properties.args).toEqual(["server.js", "--banner=//not-a-comment"]);
    expect(configsOf(out).map((c) => [c.properties.client, c.properties.format])).toEqual([
      ["vscode", "jsonc"],
      ["claude-desktop", "jsonc"],
    ]);
    expect(out.warnings).toEqual([{ message: expect.stringContaining("claude-desktop does not accept"), where: claude }]);
  });

  it("reads VS Code settings.json (mcp.servers) and Claude Code's per-project servers, storing only the MCP part", async () => {
    const settings = write(
      "shapes/.vscode/settings.json",
      `{
  // editor settings around the MCP block
  "editor.fontSize": 13,
  "http.proxy": "http://proxyuser:proxypass@proxy.example:3128",
  "mcp": { "servers": { "gh": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" } } },
}`,
    );
    const claude = write(
      "shapes/home/.claude.json",
      JSON.stringify({
        oauthAccount: { emailAddress: "someone@example.com" },
        mcpServers: { user: { command: "uvx", args: ["mcp-server-time==0.6.2"] } },
        projects: { "/srv/app": { mcpServers: { proj: { type: "sse", url: "https://mcp.example.com/sse" } } } },
      }),
    );
    write("shapes/.vscode/launch.json", '{ "version": "0.2.0", "configurations": [] }');
    const run = await scan([path.join(tmp, "shapes")]);
    expect(run.out.warnings).toEqual([]);
    expect(serversOf(run.out).map((s) => [s.name, s.properties.client, s.properties.pointer, s.properties.transport])).toEqual([
      ["gh", "vscode", "/mcp/servers/gh", "http"],
      ["user", "claude-code", "/mcpServers/user", "stdio"],
      ["proj", "claude-code", "/projects/~1srv~1app/mcpServers/proj", "sse"],
    ]);
    expect(configsOf(run.out).map((c) => c.properties.path)).toEqual([settings, claude]);
    const text = everything(run);
    // Settings outside the MCP block are not inventoried or stored (only the names of top-level keys are).
    for (const v of ["proxypass", "proxyuser", "someone@example.com"]) expect(text).not.toContain(v);
  });

  it("blanks comments and trailing commas without moving anything", () => {
    const text = '{"a": "x // y", /* c */ "b": [1, 2,], // end\n}';
    const stripped = stripJsonc(text);
    expect(stripped).toHaveLength(text.length);
    expect(JSON.parse(stripped)).toEqual({ a: "x // y", b: [1, 2] });
  });

  it("turns a malformed config into a warning with its file and line, and keeps scanning the rest", async () => {
    const bad = write("broken/.cursor/mcp.json", '{\n  "mcpServers": {\n    "x": { "command": "npx" }\n    "y": {}\n  }\n}\n');
    const good = write("broken/claude_desktop_config.json", JSON.stringify({ mcpServers: { ok: { command: "uvx", args: ["tool==1.2.0"] } } }));
    const { out } = await scan([path.join(tmp, "broken")]);
    expect(out.warnings).toEqual([{ message: expect.stringMatching(/^not valid JSON/), where: `${bad}:4:5` }]);
    expect(serversOf(out).map((s) => [s.name, s.properties.file])).toEqual([["ok", good]]);
    expect(findingsOf(out)).toEqual([]);
  });

  it("flags plain-http remotes off this machine, not on loopback", async () => {
    const file = write(
      "http/mcp_config.json",
      JSON.stringify({ mcpServers: { far: { serverUrl: "http://mcp.internal.example:8080/mcp" }, near: { serverUrl: "http://127.0.0.1:9000/mcp" }, tls: { serverUrl: "https://mcp.example.com/sse" } } }),
    );
    const { out } = await scan([file]);
    expect(findingsOf(out).map((x) => [x.rule, x.details.host])).toEqual([["mcp.plain_http_remote", "mcp.internal.example:8080"]]);
    expect(serversOf(out).map((s) => s.properties.transport)).toEqual(["http", "http", "sse"]);
  });

  it("flags servers started through a shell, and still reads the package and grants inside the command string", async () => {
    const file = write(
      "shell/claude_desktop_config.json",
      JSON.stringify({
        mcpServers: {
          posix: { command: "bash", args: ["-lc", "cd ~/tools && source .venv/bin/activate && exec npx -y @acme/mcp-server"] },
          oneString: { command: "sh -c 'npx -y @modelcontextprotocol/server-filesystem /'" },
          windows: { command: "cmd", args: ["/c", "npx", "-y", "tavily-mcp@0.2.1"] },
          ps: { command: "powershell.exe", args: ["-NoProfile", "-Command", "& uvx mcp-server-fetch"] },
          script: { command: "bash", args: ["./start-server.sh"] },
          direct: { command: "node", args: ["server.js"] },
        },
      }),
    );
    const { out } = await scan([file]);
    const shells = findingsOf(out).filter((x) => x.rule === "mcp.shell_wrapped_command");
    expect(shells.map((x) => [x.asset.split("/").pop(), x.details.shell, x.details.flag, x.details.inner_program, x.severity])).toEqual([
      ["posix", "bash", "-lc", "npx", "medium"],
      ["oneString", "sh", "-c", "npx", "medium"],
      ["windows", "cmd", "/c", "npx", "medium"],
      ["ps", "powershell", "-Command", "uvx", "medium"],
    ]);
    // What the shell runs is inventoried and judged like a direct launch.
    const unpinned = findingsOf(out).filter((x) => x.rule === "mcp.unpinned_package");
    expect(unpinned.map((x) => [x.asset.split("/").pop(), x.details.package, x.details.launcher])).toEqual([
      ["posix", "@acme/mcp-server", "npx"],
      ["oneString", "@modelcontextprotocol/server-filesystem", "npx"],
      ["ps", "mcp-server-fetch", "uvx"],
    ]);
    const roots = findingsOf(out).filter((x) => x.rule === "mcp.broad_filesystem_root");
    expect(roots.map((x) => [x.asset.split("/").pop(), x.details.root])).toEqual([["oneString", "/"]]);
    const windows = serversOf(out).find((x) => x.name === "windows")!;
    expect(windows.properties).toMatchObject({ program: "cmd", shell: { shell: "cmd", flag: "/c", inner_program: "npx" }, package: { name: "tavily-mcp", version: "0.2.1", pinned: true } });
  });

  it("covers every rule on one config: inline secrets, unpinned npx/uvx/pipx, plain http, / and home directory grants", async () => {
    const file = write(
      "all/.cursor/mcp.json",
      JSON.stringify({
        mcpServers: {
          gh: { command: "npx", args: ["-y", "@modelcontextprotocol/server-github"], env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8" } },
          py: { command: "uvx", args: ["mcp-server-time"] },
          px: { command: "pipx", args: ["run", "mcp-server-sqlite"] },
          pinned: { command: "pipx", args: ["run", "mcp-server-sqlite==0.6.2"] },
          far: { url: "http://10.0.0.7:8000/mcp" },
          root: { command: "npx", args: ["@modelcontextprotocol/server-filesystem@2025.8.21", "/"] },
          home: { command: "npx", args: ["@modelcontextprotocol/server-filesystem@2025.8.21", "~/"] },
          narrow: { command: "npx", args: ["@modelcontextprotocol/server-filesystem@2025.8.21", "/srv/shared/docs"] },
        },
      }),
    );
    const { out } = await scan([file]);
    const byRule = (rule: string) => findingsOf(out).filter((x) => x.rule === rule).map((x) => x.asset.split("/").pop());
    expect(byRule("mcp.inline_secret")).toEqual(["gh"]);
    expect(byRule("mcp.unpinned_package")).toEqual(["gh", "py", "px"]);
    expect(findingsOf(out).find((x) => x.rule === "mcp.unpinned_package" && x.asset.endsWith("/gh"))!.severity).toBe("high");
    expect(findingsOf(out).find((x) => x.rule === "mcp.unpinned_package" && x.asset.endsWith("/px"))!.severity).toBe("medium");
    expect(byRule("mcp.plain_http_remote")).toEqual(["far"]);
    expect(byRule("mcp.broad_filesystem_root")).toEqual(["root", "home"]);
    expect(byRule("mcp.shell_wrapped_command")).toEqual([]);
    expect(everything({ out, logs: [] })).not.toContain("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
  });

  it("keeps secrets out of arguments and remote URLs, and reports where they were", async () => {
    const file = write(
      "args/.mcp.json",
      JSON.stringify({
        mcpServers: {
          api: { command: "npx", args: ["-y", "some-mcp@2.0.0", "--api-key", "k3yV4lu3-0123456789abcdef"] },
          box: { command: "docker", args: ["run", "-i", "--rm", "-e", "DB_PASSWORD=hunter2hunter2", "-e", "PLAIN", "ghcr.io/acme/mcp@sha256:" + "a".repeat(64)] },
          hook: { type: "http", url: "https://bob:s3cretpw@mcp.example.com/mcp?token=abcdef123456&region=eu", headers: { Authorization: "Bearer abcdefghijklmnop1234" } },
        },
      }),
    );
    const run = await scan([file]);
    const text = everything(run);
    for (const v of ["k3yV4lu3-0123456789abcdef", "hunter2hunter2", "s3cretpw", "abcdef123456", "abcdefghijklmnop1234"]) expect(text).not.toContain(v);
    const [api, box, hook] = serversOf(run.out);
    expect(api!.properties.args).toEqual(["-y", "some-mcp@2.0.0", "--api-key", "[REDACTED]"]);
    expect(api!.properties.package).toEqual({ ecosystem: "npm", name: "some-mcp", version: "2.0.0", pinned: true });
    expect(box!.properties.env_keys).toEqual(["DB_PASSWORD", "PLAIN"]);
    expect(box!.properties.package).toMatchObject({ ecosystem: "oci", name: "ghcr.io/acme/mcp", pinned: true });
    expect(hook!.properties.url).toBe("https://mcp.example.com/mcp?token=[REDACTED]&region=eu");
    expect(hook!.properties.header_keys).toEqual(["Authorization"]);
    expect(
      findingsOf(run.out)
        .filter((x) => x.rule === "mcp.inline_secret")
        .map((x) => x.details),
    ).toEqual([
      { location: "args", index: 3, flag: "--api-key" },
      { location: "headers", key: "Authorization" },
    ]);
  });

  it("reports a missing path as a warning, and fails when no path can be scanned at all", async () => {
    const file = write("partial/.mcp.json", JSON.stringify({ mcpServers: { a: { command: "a-server" } } }));
    const missing = path.join(tmp, "partial", "nope");
    const { out } = await scan([file, missing]);
    expect(out.items).toBe(1);
    expect(out.warnings).toEqual([{ message: "path does not exist", where: missing }]);
    await expect(scan([missing, path.join(tmp, "also-nope")])).rejects.toThrow(/None of the scope paths could be scanned/);
  });

  it("stops when its signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(scan([FIXTURE_DIR], controller.signal)).rejects.toThrow("cancelled");
  });

  it("validates its scope with messages that name the field", () => {
    expect(validateMcpConfigScope({ paths: ["/srv/configs", "relative/dir"] })).toBeNull();
    expect(validateMcpConfigScope(null)).toMatch(/^scope:/);
    expect(validateMcpConfigScope({})).toMatch(/^scope\.paths:/);
    expect(validateMcpConfigScope({ paths: [] })).toMatch(/^scope\.paths: must name at least one/);
    expect(validateMcpConfigScope({ paths: Array.from({ length: 101 }, (_, i) => `/p${i}`) })).toMatch(/^scope\.paths: at most 100/);
    expect(validateMcpConfigScope({ paths: ["/ok", 7] })).toMatch(/^scope\.paths\[1\]:/);
    expect(validateMcpConfigScope({ paths: ["/ok"], depth: 3 })).toMatch(/^scope\.depth:/);
  });
});

describe("package and secret parsing", () => {
  it("reads the package each launcher runs, and whether it is pinned", () => {
    const pkg = (command: string, args: string[]) => launchInfo(command, args).package;
    expect(pkg("npx", ["-y", "@scope/pkg@1.2.3", "--flag"])).toMatchObject({ ecosystem: "npm", name: "@scope/pkg", version: "1.2.3", pinned: true, autoInstall: true });
    expect(pkg("npx", ["@scope/pkg@latest"])).toMatchObject({ name: "@scope/pkg", version: null, pinned: false, requested: "latest" });
    expect(pkg("npx", ["--registry", "https://registry.npmjs.org", "tool@^1.0.0"])).toMatchObject({ name: "tool", version: null, pinned: false });
    expect(pkg("npx -y dubhe-mcp", [])).toMatchObject({ name: "dubhe-mcp", pinned: false, autoInstall: true });
    expect(pkg("C:\\Program Files\\nodejs\\npx.cmd", ["-y", "x@0.1.0"])).toMatchObject({ name: "x", version: "0.1.0" });
    expect(pkg("uvx", ["pkg==1.0"])).toMatchObject({ ecosystem: "pypi", name: "pkg", version: "1.0", pinned: true });
    expect(pkg("uvx", ["--from", "pkg[cli]==2.1.0", "pkg-cli"])).toMatchObject({ name: "pkg", version: "2.1.0", pinned: true });
    expect(pkg("/opt/uv/bin/uv", ["tool", "run", "mcp-server-git"])).toMatchObject({ ecosystem: "pypi", name: "mcp-server-git", pinned: false, launcher: "uv tool run" });
    expect(pkg("pipx", ["run", "some-tool==3.0"])).toMatchObject({ ecosystem: "pypi", name: "some-tool", version: "3.0" });
    expect(pkg("docker", ["run", "-i", "--rm", "-v", "/a:/b", "--network", "host", "registry:5000/team/img:1.4"])).toMatchObject({ ecosystem: "oci", name: "registry:5000/team/img", version: "1.4", pinned: false });
    expect(pkg("docker", ["run", "mcp/git"])).toMatchObject({ name: "mcp/git", version: null, requested: "(none: latest)" });
    expect(pkg("python3", ["server.py"])).toBeNull();
  });

  it("strips credentials from URLs but leaves clean URLs exactly as written", () => {
    expect(sanitizeUrl("https://user:pw@host.example/path?api_key=zzz&q=1#frag")).toBe("https://host.example/path?api_key=[REDACTED]&q=1");
    expect(sanitizeUrl("https://bookapi-mcp-server.default.svc.cluster.local/")).toBe("https://bookapi-mcp-server.default.svc.cluster.local/");
    expect(sanitizeUrl("${input:CARTO_MCP_URL}")).toBe("${input:CARTO_MCP_URL}");
  });

  it("keeps docker env keys but not their values", () => {
    expect(sanitizeArgs(["run", "-e", "A=1", "--env=B=two", "-e", "C", "img"], true)).toEqual({ args: ["run", "-e", "A=[REDACTED]", "--env=B=[REDACTED]", "-e", "C", "img"], envKeys: ["A", "B", "C"], redacted: [] });
  });
});

describe("path policy", () => {
  it("never reads Cairn's own directories and honours the allowed scan roots, through symlinks too", async () => {
    const fsp = fs.promises;
    const p = path;
    const base = await fsp.mkdtemp(p.join(os.tmpdir(), "cairn-paths-"));
    const dataDir = p.join(base, "data");
    const allowed = p.join(base, "allowed");
    await fsp.mkdir(dataDir, { recursive: true });
    await fsp.mkdir(allowed, { recursive: true });
    const config = JSON.stringify({ mcpServers: { fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem@1.0.0", "/tmp"] } } });
    await fsp.writeFile(p.join(dataDir, "claude_desktop_config.json"), config);
    await fsp.writeFile(p.join(allowed, "claude_desktop_config.json"), config);
    await fsp.symlink(p.join(dataDir, "claude_desktop_config.json"), p.join(allowed, "mcp.json"));
    const run = (paths: string[]) =>
      collectMcpConfigs({ scope: { paths }, credentials: {}, signal: new AbortController().signal, log: () => {}, paths: { allowed: [allowed], denied: [dataDir] } });
    await expect(run([dataDir])).rejects.toThrow(/None of the scope paths could be scanned/);
    const out = await run([allowed, base]);
    expect(out.warnings.some((w) => /inside Cairn's own data/.test(w.message))).toBe(true);
    expect(out.warnings.some((w) => /outside the scan roots/.test(w.message))).toBe(true);
    expect((out.summary as { config_files?: number }).config_files ?? out.items).toBeGreaterThan(0);
    await fsp.rm(base, { recursive: true, force: true });
  });
});
