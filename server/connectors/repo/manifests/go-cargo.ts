// Go (go.mod: require blocks, `// indirect`, replace directives) and Rust (Cargo.lock v1–v4).
import { parseTomlText } from "./toml.ts";
import type { DeclaredPackage, ParsedManifest } from "./types.ts";

/** One go.mod line: `//` comments stripped; `// indirect` remembered. Quoted paths lose their quotes. */
function goTokens(line: string): { tokens: string[]; indirect: boolean } {
  const comment = line.indexOf("//");
  const indirect = comment >= 0 && /^\/\/\s*indirect\b/.test(line.slice(comment));
  const body = comment >= 0 ? line.slice(0, comment) : line;
  const tokens = body.trim().split(/\s+/).filter(Boolean).map((t) => t.replace(/^"(.*)"$/, "$1").replace(/^`(.*)`$/, "$1"));
  return { tokens, indirect };
}

const isLocalPath = (p: string) => p.startsWith("./") || p.startsWith("../") || p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p);

export function parseGoMod(text: string, file: string): ParsedManifest {
  const warnings: ParsedManifest["warnings"] = [];
  const requires: { path: string; version: string; indirect: boolean; line: number }[] = [];
  const replaces: { from: string; fromVersion: string | null; to: string; toVersion: string | null }[] = [];
  let module: string | null = null;
  let goVersion: string | null = null;
  let block: string | null = null;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const { tokens, indirect } = goTokens(raw);
    if (!tokens.length) continue;
    let verb: string;
    let args: string[];
    if (block) {
      if (tokens[0] === ")") {
        block = null;
        continue;
      }
      verb = block;
      args = tokens;
    } else if (tokens[1] === "(") {
      block = tokens[0]!;
      continue;
    } else {
      verb = tokens[0]!;
      args = tokens.slice(1);
    }
    const where = `${file}:${i + 1}`;
    if (verb === "module") module = args[0] ?? null;
    else if (verb === "go") goVersion = args[0] ?? null;
    else if (verb === "require") {
      if (args.length < 2) warnings.push({ message: "require needs a module path and a version", where });
      else requires.push({ path: args[0]!, version: args[1]!, indirect, line: i + 1 });
    } else if (verb === "replace") {
      const arrow = args.indexOf("=>");
      if (arrow < 1 || arrow === args.length - 1) warnings.push({ message: "replace needs `old [version] => new [version]`", where });
      else replaces.push({ from: args[0]!, fromVersion: arrow > 1 ? args[1]! : null, to: args[arrow + 1]!, toVersion: args[arrow + 2] ?? null });
    }
  }
  const packages: DeclaredPackage[] = requires.map((r) => {
    const rep = replaces.find((x) => x.from === r.path && (x.fromVersion === null || x.fromVersion === r.version));
    if (rep && isLocalPath(rep.to)) {
      return { key: r.path, ecosystem: "golang", name: r.path, version: null, direct: !r.indirect, requested: r.version, source: { type: "path", location: rep.to } };
    }
    if (rep) return { key: r.path, ecosystem: "golang", name: rep.to, version: rep.toVersion ?? r.version, direct: !r.indirect, requested: `${r.path} ${r.version} => ${rep.to}${rep.toVersion ? ` ${rep.toVersion}` : ""}`, source: { type: "registry" } };
    return { key: r.path, ecosystem: "golang", name: r.path, version: r.version, direct: !r.indirect, source: { type: "registry" } };
  });
  if (!module) warnings.push({ message: "no module directive", where: file });
  return { kind: "go.mod", role: "manifest", ecosystem: "golang", format: goVersion ? `go ${goVersion}` : null, project: { name: module, version: null }, packages, warnings };
}

type Toml = Record<string, unknown>;
const isObject = (v: unknown): v is Toml => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseCargoLock(text: string, file: string): ParsedManifest {
  const doc = parseTomlText(text);
  const warnings: ParsedManifest["warnings"] = [];
  const list = Array.isArray(doc.package) ? doc.package : [];
  if (!Array.isArray(doc.package)) warnings.push({ message: "no [[package]] entries", where: file });
  const entries: { name: string; version: string; source: string | null; deps: string[] }[] = [];
  for (const [i, entry] of list.entries()) {
    if (!isObject(entry) || typeof entry.name !== "string" || typeof entry.version !== "string") {
      warnings.push({ message: "package entry without a name and version", where: `${file}#/package/${i}` });
      continue;
    }
    entries.push({ name: entry.name, version: entry.version, source: typeof entry.source === "string" ? entry.source : null, deps: Array.isArray(entry.dependencies) ? entry.dependencies.map(String) : [] });
  }
  const keyOf = (e: { name: string; version: string }) => `${e.name} ${e.version}`;
  /** `name`, `name version` or `name version (source)`: the form Cargo uses only when a name alone is ambiguous. */
  const resolveDep = (dep: string): string | null => {
    const [name, version] = dep.split(" ");
    const candidates = entries.filter((e) => e.name === name && (!version || e.version === version));
    return candidates.length >= 1 ? keyOf(candidates[0]!) : null;
  };
  // Crates without a source are the workspace's own: not dependencies, but what they depend on is direct.
  const workspace = entries.filter((e) => e.source === null);
  const direct = new Set(workspace.flatMap((w) => w.deps.map(resolveDep).filter((k): k is string => k !== null)));
  const packages: DeclaredPackage[] = entries
    .filter((e) => e.source !== null)
    .map((e) => {
      const source: DeclaredPackage["source"] = e.source!.startsWith("registry+") || e.source!.startsWith("sparse+") ? { type: "registry" } : e.source!.startsWith("git+") ? { type: "git", location: e.source!.slice(4) } : { type: "url", location: e.source! };
      return { key: keyOf(e), ecosystem: "cargo" as const, name: e.name, version: e.version, direct: workspace.length ? direct.has(keyOf(e)) : null, source, dependsOn: e.deps.map(resolveDep).filter((k): k is string => k !== null) };
    });
  return {
    kind: "Cargo.lock",
    role: "lockfile",
    ecosystem: "cargo",
    format: typeof doc.version === "number" ? `Cargo.lock version ${doc.version}` : "Cargo.lock version 1",
    project: workspace.length === 1 ? { name: workspace[0]!.name, version: workspace[0]!.version } : null,
    packages,
    warnings,
  };
}
