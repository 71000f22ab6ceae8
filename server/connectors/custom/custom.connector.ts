// `custom` sources: run an allow-listed executable as the connector. The scope names the connector and carries its
// input (`{"connector": "<name>", "input": {...}}`). Before every run the executable is re-hashed against the
// allow-list; it runs in a fresh work directory with only PATH, HOME, TMPDIR, LANG and LC_ALL from the worker's
// environment plus the broker's credential bundle, receives its input on stdin and in a file, and writes one JSON
// output file (results, graph, artifacts). Its time and output budgets are enforced by the shared driver.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { inheritedProcessEnv } from "../../config/env.ts";
import { TransientError } from "../../worker/handler.ts";
import { parseJsonOrJsonc } from "../mcp-config/jsonc.ts";
import type { Connector, ConnectorInput, ConnectorOutput, RawArtifact } from "../contract.ts";
import { ConnectorOutputError, runProcess } from "../driver.ts";
import { CONNECTOR_NAME } from "./allow-list.service.ts";
import { customConnectorLookup } from "./catalog.ts";
import { executableStatus } from "./executable.ts";

export const CUSTOM_KIND = "custom";
export const INPUT_FORMAT = "cairn.connector-input/v1";
export const OUTPUT_FORMAT = "cairn.connector-output/v1";
/** The only variables taken from the worker's own environment. */
export const OS_ENV_ALLOWLIST = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"] as const;
/** sysexits EX_TEMPFAIL: the connector says "try again later" (the run is retried like any transient failure). */
export const EXIT_TEMPFAIL = 75;
const MAX_ARTIFACTS = 100;

type Warning = ConnectorOutput["warnings"][number];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

export function validateCustomScope(scope: unknown): string | null {
  if (!isObject(scope)) return 'scope: must be an object such as {"connector": "inventory-export", "input": {}}';
  const extra = Object.keys(scope).filter((k) => k !== "connector" && k !== "input");
  if (extra.length) return `scope.${extra[0]}: unknown field (a custom source takes connector and input)`;
  if (typeof scope.connector !== "string" || !CONNECTOR_NAME.test(scope.connector)) return "scope.connector: must name an allow-listed custom connector (lowercase letters, digits, - and _)";
  if ("input" in scope && !isObject(scope.input)) return "scope.input: must be a JSON object (it is handed to the connector as is)";
  return null;
}

/**
 * The child's environment: the OS allowlist, then the credential bundle. Bundle keys that are not variable names, or
 * that would override the allowlist, the loader (LD_*, DYLD_*) or Cairn's own protocol variables, are dropped.
 */
export function connectorEnv(credentials: Record<string, string>, protocol: Record<string, string>): { env: Record<string, string>; dropped: string[] } {
  const os_ = inheritedProcessEnv();
  const env: Record<string, string> = {};
  for (const name of OS_ENV_ALLOWLIST) if (os_[name] !== undefined) env[name] = os_[name]!;
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(credentials)) {
    const reserved = (OS_ENV_ALLOWLIST as readonly string[]).includes(key) || /^(LD_|DYLD_|CAIRN_)/.test(key);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || reserved) dropped.push(key);
    else env[key] = value;
  }
  return { env: { ...env, ...protocol }, dropped };
}

const pointer = (...parts: (string | number)[]) => `#/${parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

async function readArtifact(outDir: string, raw: unknown, i: number): Promise<RawArtifact> {
  const where = (field?: string) => `output.json${pointer("artifacts", i, ...(field ? [field] : []))}`;
  if (!isObject(raw)) throw new ConnectorOutputError("an artifact must be an object with kind, content_type and path (or content)", where());
  if (typeof raw.kind !== "string" || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(raw.kind)) throw new ConnectorOutputError("artifact kind must be a short lowercase name", where("kind"));
  const contentType = typeof raw.content_type === "string" && raw.content_type ? raw.content_type : "application/octet-stream";
  if (typeof raw.path === "string") {
    const file = path.resolve(outDir, raw.path);
    if (!file.startsWith(outDir + path.sep)) throw new ConnectorOutputError("artifact path must stay inside the connector's work directory", where("path"));
    let st;
    try {
      st = await fs.lstat(file);
    } catch {
      throw new ConnectorOutputError(`artifact file ${raw.path} does not exist`, where("path"));
    }
    if (!st.isFile()) throw new ConnectorOutputError(`artifact ${raw.path} is not a regular file (links are not followed)`, where("path"));
    return { kind: raw.kind, contentType, body: await fs.readFile(file) };
  }
  if (typeof raw.content === "string") return { kind: raw.kind, contentType, body: Buffer.from(raw.content, "utf8") };
  if (typeof raw.content_base64 === "string") return { kind: raw.kind, contentType, body: Buffer.from(raw.content_base64, "base64") };
  throw new ConnectorOutputError("an artifact needs path, content or content_base64", where());
}

/** Reads and checks the output file; every problem names where it is. */
export async function readConnectorOutput(outDir: string, outputFile: string, name: string): Promise<Omit<ConnectorOutput, "summary"> & { results: Record<string, unknown> }> {
  let text: string;
  try {
    text = await fs.readFile(outputFile, "utf8");
  } catch {
    throw new ConnectorOutputError(`custom connector ${name} exited without writing its output file`, "output.json");
  }
  const parsed = parseJsonOrJsonc(text, false);
  if (!parsed.ok) throw new ConnectorOutputError(`custom connector ${name} wrote an output file that is ${parsed.message}`, `output.json:${parsed.line}:${parsed.column}`);
  const doc = parsed.value;
  if (!isObject(doc)) throw new ConnectorOutputError("the output must be a JSON object with results, graph and artifacts", "output.json#");
  if (doc.format !== undefined && doc.format !== OUTPUT_FORMAT) throw new ConnectorOutputError(`unknown output format ${JSON.stringify(doc.format)} (expected ${OUTPUT_FORMAT})`, "output.json#/format");
  if (doc.results !== undefined && !isObject(doc.results)) throw new ConnectorOutputError("results must be an object of category counts", "output.json#/results");
  if (doc.items !== undefined && (typeof doc.items !== "number" || !Number.isInteger(doc.items) || doc.items < 0)) throw new ConnectorOutputError("items must be a non-negative whole number", "output.json#/items");
  const graphRaw = doc.graph ?? {};
  if (!isObject(graphRaw)) throw new ConnectorOutputError("graph must be an object with assets, relations and findings", "output.json#/graph");
  const graph = { assets: [] as unknown[], relations: [] as unknown[], findings: [] as unknown[] };
  for (const part of ["assets", "relations", "findings"] as const) {
    const v = graphRaw[part] ?? [];
    if (!Array.isArray(v)) throw new ConnectorOutputError(`graph.${part} must be an array`, `output.json#/graph/${part}`);
    graph[part] = v;
  }
  const artifactsRaw = doc.artifacts ?? [];
  if (!Array.isArray(artifactsRaw)) throw new ConnectorOutputError("artifacts must be an array", "output.json#/artifacts");
  if (artifactsRaw.length > MAX_ARTIFACTS) throw new ConnectorOutputError(`at most ${MAX_ARTIFACTS} artifacts`, "output.json#/artifacts");
  const artifacts: RawArtifact[] = [];
  for (const [i, a] of artifactsRaw.entries()) artifacts.push(await readArtifact(outDir, a, i));
  const warningsRaw = doc.warnings ?? [];
  if (!Array.isArray(warningsRaw)) throw new ConnectorOutputError("warnings must be an array", "output.json#/warnings");
  const warnings: Warning[] = warningsRaw.slice(0, 500).map((w, i) => {
    if (typeof w === "string") return { message: w.slice(0, 2000) };
    if (isObject(w) && typeof w.message === "string") return { message: w.message.slice(0, 2000), ...(typeof w.where === "string" ? { where: w.where.slice(0, 500) } : {}) };
    throw new ConnectorOutputError("a warning must be a string or {message, where}", `output.json${pointer("warnings", i)}`);
  });
  return { items: typeof doc.items === "number" ? doc.items : graph.assets.length, results: isObject(doc.results) ? doc.results : {}, graph, artifacts, warnings };
}

export async function collectCustom(input: ConnectorInput): Promise<ConnectorOutput> {
  const problem = validateCustomScope(input.scope);
  if (problem) throw permanent(`Invalid scope: ${problem}`);
  const name = input.scope.connector as string;
  const lookup = customConnectorLookup();
  if (!lookup) throw permanent("Custom connectors cannot run in this process: its allow-list catalog is not bound");
  const entry = await lookup(name);
  if (!entry) throw permanent(`Custom connector ${name} is not allow-listed: a platform owner must allow-list it before sources can use it`);

  // Re-checked right before the run: a file that changed since it was allow-listed never runs.
  const check = await executableStatus(entry.executablePath, entry.sha256);
  if (check.status !== "ok") throw permanent(`Custom connector ${name} refused: ${entry.executablePath} ${check.detail} — a platform owner must review it and allow-list it again`);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-custom-"));
  try {
    const inDir = path.join(work, "in");
    const outDir = path.join(work, "out");
    await fs.mkdir(inDir, { mode: 0o700 });
    await fs.mkdir(outDir, { mode: 0o700 });
    const inputFile = path.join(inDir, "input.json");
    const outputFile = path.join(outDir, "output.json");
    const payload = Buffer.from(JSON.stringify({ format: INPUT_FORMAT, connector: name, input: isObject(input.scope.input) ? input.scope.input : {}, credential_keys: Object.keys(input.credentials).sort() }));
    await fs.writeFile(inputFile, payload, { mode: 0o400 });
    const { env, dropped } = connectorEnv(input.credentials, { CAIRN_INPUT_FILE: inputFile, CAIRN_OUTPUT_FILE: outputFile, CAIRN_WORK_DIR: outDir });
    const warnings: Warning[] = [];
    if (dropped.length) {
      const w = { message: `credential keys not passed to the connector (not variable names, or reserved): ${dropped.join(", ")}` };
      warnings.push(w);
      input.log("warn", w.message);
    }
    input.log("info", `running custom connector ${name} (${entry.executablePath}, sha256 ${entry.sha256.slice(0, 12)}…)`);
    const result = await runProcess({
      command: entry.executablePath,
      args: [],
      env,
      cwd: outDir,
      stdin: payload,
      signal: input.signal,
      timeoutMs: entry.timeoutSeconds * 1000,
      maxOutputBytes: entry.maxOutputBytes,
      watchDir: outDir,
      onLine: (stream, line) => input.log(stream === "stderr" ? "warn" : "info", `${name}: ${line}`),
      label: `custom connector ${name}`,
    });
    if (result.exitCode !== 0) {
      const tail = result.stderrTail.trim().split("\n").slice(-3).join(" · ");
      const message = `custom connector ${name} ${result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`}${tail ? `: ${tail}` : ""}`;
      if (result.exitCode === EXIT_TEMPFAIL) throw new TransientError(message);
      throw permanent(message);
    }
    const out = await readConnectorOutput(outDir, outputFile, name);
    for (const w of out.warnings) input.log("warn", w.where ? `${w.where}: ${w.message}` : w.message);
    return {
      items: out.items,
      summary: { connector: name, sha256: entry.sha256, duration_ms: Math.round(result.durationMs), output_bytes: result.streamBytes + result.watchedBytes, ...out.results },
      graph: out.graph,
      artifacts: out.artifacts,
      warnings: [...warnings, ...out.warnings],
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

export const customConnector: Connector = {
  kind: CUSTOM_KIND,
  validateScope: validateCustomScope,
  collect: (input) => collectCustom(input),
};
