// npm: package.json (what the project asks for) and package-lock.json v1, v2 and v3 (what is installed where).
// Lockfile v2/v3 list install paths (`node_modules/a/node_modules/b`); v1 nests `dependencies`. Both resolve a
// dependency the way Node does: the nearest `node_modules/<name>` walking up from the dependent's own folder.
import { parseJsonOrJsonc } from "../../mcp-config/jsonc.ts";
import { ManifestParseError, withoutCredentials, type DeclaredPackage, type ParsedManifest } from "./types.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): Record<string, string> => (isObject(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")) : {});

function parseJson(text: string): Json {
  const result = parseJsonOrJsonc(text, false);
  if (!result.ok) throw new ManifestParseError(result.message, result.line, result.column);
  if (!isObject(result.value)) throw new ManifestParseError("not a JSON object", 1, 1);
  return result.value;
}

const NODE_MODULES = "node_modules/";

/** The folder a lockfile key is installed under, one level up (`node_modules/a/node_modules/b` → `node_modules/a`). */
function parentKey(key: string): string | null {
  if (key === "") return null;
  const at = key.lastIndexOf(`/${NODE_MODULES}`);
  if (at >= 0) return key.slice(0, at);
  return "";
}

/** Node's lookup: `<from>/node_modules/<name>`, then the same from each ancestor folder up to the root. */
export function resolveInstallPath(keys: ReadonlySet<string>, from: string, name: string): string | null {
  let base: string | null = from;
  while (base !== null) {
    const candidate = `${base ? `${base}/` : ""}${NODE_MODULES}${name}`;
    if (keys.has(candidate)) return candidate;
    base = parentKey(base);
  }
  return null;
}

/** How a version or spec string names its source: `npm:` aliases, git, tarball URLs, local paths. */
function specSource(spec: string): DeclaredPackage["source"] | undefined {
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:)/.test(spec) || /^[\w-]+\/[\w.-]+(#.*)?$/.test(spec)) return { type: "git", location: withoutCredentials(spec) };
  if (/^(file:|link:|workspace:|\.{0,2}\/)/.test(spec)) return { type: "path", location: spec };
  if (/^https?:\/\//.test(spec)) return { type: "url", location: withoutCredentials(spec) };
  return undefined;
}

function resolvedSource(resolved: unknown): DeclaredPackage["source"] {
  if (typeof resolved !== "string" || !resolved) return { type: "registry" };
  if (/^https?:\/\/registry\.(npmjs\.org|yarnpkg\.com)\//.test(resolved)) return { type: "registry" };
  return specSource(resolved) ?? { type: "url", location: withoutCredentials(resolved) };
}

function rootDependencyKinds(root: Json): Map<string, { dev: boolean; optional: boolean; requested: string }> {
  const out = new Map<string, { dev: boolean; optional: boolean; requested: string }>();
  for (const [field, dev, optional] of [
    ["dependencies", false, false],
    ["optionalDependencies", false, true],
    ["peerDependencies", false, false],
    ["devDependencies", true, false],
  ] as const) {
    for (const [name, requested] of Object.entries(stringMap(root[field]))) {
      if (!out.has(name)) out.set(name, { dev, optional, requested });
    }
  }
  return out;
}

function fromPackagesMap(packagesMap: Json, warnings: ParsedManifest["warnings"]): DeclaredPackage[] {
  const root = isObject(packagesMap[""]) ? packagesMap[""] : {};
  const direct = rootDependencyKinds(root);
  const keys = new Set(Object.keys(packagesMap).filter((k) => k.includes(NODE_MODULES)));
  const out: DeclaredPackage[] = [];
  for (const [key, raw] of Object.entries(packagesMap)) {
    // "" is the project itself; keys without node_modules/ are workspace folders (the project's own packages).
    if (!key.includes(NODE_MODULES)) continue;
    if (!isObject(raw)) {
      warnings.push({ message: "lockfile entry is not an object", where: `#/packages/${key.replace(/~/g, "~0").replace(/\//g, "~1")}` });
      continue;
    }
    if (raw.link === true) continue; // a symlink to a workspace folder
    const folderName = key.slice(key.lastIndexOf(NODE_MODULES) + NODE_MODULES.length);
    const name = typeof raw.name === "string" && raw.name ? raw.name : folderName;
    const version = typeof raw.version === "string" && raw.version ? raw.version : null;
    if (!version) warnings.push({ message: `${name} has no version in the lockfile`, where: `#/packages/${key.replace(/~/g, "~0").replace(/\//g, "~1")}` });
    const top = key === `${NODE_MODULES}${folderName}`;
    const declared = top ? direct.get(folderName) : undefined;
    const deps = { ...stringMap(raw.peerDependencies), ...stringMap(raw.optionalDependencies), ...stringMap(raw.dependencies) };
    const dependsOn = Object.keys(deps)
      .map((d) => resolveInstallPath(keys, key, d))
      .filter((k): k is string => k !== null);
    out.push({
      key,
      ecosystem: "npm",
      name,
      version,
      direct: Boolean(declared),
      dev: raw.dev === true || undefined,
      optional: raw.optional === true || raw.devOptional === true || undefined,
      ...(declared ? { requested: declared.requested } : {}),
      source: resolvedSource(raw.resolved),
      dependsOn,
    });
  }
  return out;
}

function fromV1Dependencies(doc: Json, warnings: ParsedManifest["warnings"]): DeclaredPackage[] {
  // v1 has no root entry: direct dependencies are the top-level ones that are not marked as only required by others.
  const entries: { key: string; name: string; entry: Json }[] = [];
  const walk = (deps: unknown, parent: string, pointer: string) => {
    if (!isObject(deps)) return;
    for (const [name, entry] of Object.entries(deps)) {
      const key = `${parent ? `${parent}/` : ""}${NODE_MODULES}${name}`;
      const here = `${pointer}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (!isObject(entry)) {
        warnings.push({ message: "lockfile entry is not an object", where: `#${here}` });
        continue;
      }
      entries.push({ key, name, entry });
      walk(entry.dependencies, key, `${here}/dependencies`);
    }
  };
  walk(doc.dependencies, "", "/dependencies");
  const keys = new Set(entries.map((e) => e.key));
  const requiredByOthers = new Set<string>();
  const out: DeclaredPackage[] = entries.map(({ key, name, entry }) => {
    let pkgName = name;
    let version = typeof entry.version === "string" && entry.version ? entry.version : null;
    let source: DeclaredPackage["source"] = resolvedSource(entry.resolved);
    if (version?.startsWith("npm:")) {
      // An alias: `"version": "npm:real-name@1.2.3"`.
      const spec = version.slice(4);
      const at = spec.lastIndexOf("@");
      if (at > 0) {
        pkgName = spec.slice(0, at);
        version = spec.slice(at + 1);
      }
    } else if (version && specSource(version)) {
      source = specSource(version);
      version = null;
    }
    const dependsOn = Object.keys(stringMap(entry.requires))
      .map((d) => resolveInstallPath(keys, key, d))
      .filter((k): k is string => k !== null);
    for (const d of dependsOn) requiredByOthers.add(d);
    return { key, ecosystem: "npm" as const, name: pkgName, version, direct: null, dev: entry.dev === true || undefined, optional: entry.optional === true || undefined, source, dependsOn };
  });
  for (const p of out) {
    // A top-level entry nobody requires can only be there because the project asked for it; one that others require
    // may or may not also be asked for (v1 does not say).
    const top = !p.key.slice(NODE_MODULES.length).includes(`/${NODE_MODULES}`);
    p.direct = !top ? false : requiredByOthers.has(p.key) ? null : true;
  }
  return out;
}

export function parsePackageLock(text: string): ParsedManifest {
  const doc = parseJson(text);
  const warnings: ParsedManifest["warnings"] = [];
  const version = typeof doc.lockfileVersion === "number" ? doc.lockfileVersion : 1;
  let packages: DeclaredPackage[];
  if (isObject(doc.packages) && version >= 2) packages = fromPackagesMap(doc.packages, warnings);
  else if (isObject(doc.dependencies)) packages = fromV1Dependencies(doc, warnings);
  else if (isObject(doc.packages)) packages = fromPackagesMap(doc.packages, warnings);
  else {
    packages = [];
    warnings.push({ message: "lockfile has neither packages nor dependencies", where: "#" });
  }
  return {
    kind: "package-lock.json",
    role: "lockfile",
    ecosystem: "npm",
    format: `lockfileVersion ${version}`,
    project: { name: typeof doc.name === "string" ? doc.name : null, version: typeof doc.version === "string" ? doc.version : null },
    packages,
    warnings,
  };
}

export function parsePackageJson(text: string): ParsedManifest {
  const doc = parseJson(text);
  const packages: DeclaredPackage[] = [];
  for (const [name, info] of rootDependencyKinds(doc)) {
    const source = specSource(info.requested.startsWith("npm:") ? "" : info.requested);
    let pkgName = name;
    if (info.requested.startsWith("npm:")) {
      const spec = info.requested.slice(4);
      const at = spec.lastIndexOf("@");
      pkgName = at > 0 ? spec.slice(0, at) : spec;
    }
    packages.push({ key: name, ecosystem: "npm", name: pkgName, version: null, direct: true, dev: info.dev || undefined, optional: info.optional || undefined, requested: info.requested, ...(source ? { source } : {}) });
  }
  return {
    kind: "package.json",
    role: "manifest",
    ecosystem: "npm",
    format: null,
    project: { name: typeof doc.name === "string" ? doc.name : null, version: typeof doc.version === "string" ? doc.version : null },
    packages,
    warnings: [],
  };
}
