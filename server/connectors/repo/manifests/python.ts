// Python: requirements files (pip's format: PEP 508 requirements, options, continuations, hashes) and poetry.lock.
import { parseTomlText } from "./toml.ts";
import { normalizePypiName, withoutCredentials, type DeclaredPackage, type ParsedManifest } from "./types.ts";

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*/;

/** Logical lines: comments removed, `\` continuations joined; each keeps the number of the line it started on. */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const physical = text.split(/\r?\n/);
  let current: { line: number; text: string } | null = null;
  for (const [i, raw] of physical.entries()) {
    // A comment starts at `#` at the line start or after whitespace (a `#` inside a URL fragment is not one).
    const stripped = raw.replace(/(^|\s)#.*$/, "");
    const continued = /\\\s*$/.test(stripped);
    const body = continued ? stripped.replace(/\\\s*$/, "") : stripped;
    if (current) current.text += ` ${body.trim()}`;
    else current = { line: i + 1, text: body.trim() };
    if (!continued) {
      if (current.text) out.push(current);
      current = null;
    }
  }
  if (current?.text) out.push(current);
  return out;
}

export function parseRequirements(text: string, file: string): ParsedManifest {
  const packages: DeclaredPackage[] = [];
  const warnings: ParsedManifest["warnings"] = [];
  const includes: string[] = [];
  for (const { line, text: l } of logicalLines(text)) {
    if (l.startsWith("-")) {
      const include = /^(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)/.exec(l);
      if (include) includes.push(include[1]!);
      else if (/^(-e|--editable)\b/.test(l)) warnings.push({ message: "editable requirement (a local or VCS checkout) is not inventoried", where: `${file}:${line}` });
      continue; // index URLs, --hash, --pre …: options, not requirements
    }
    // Per-requirement options (`--hash=…`) trail the requirement; markers follow `;`.
    const withoutOptions = l.replace(/\s--?[a-z][\w-]*(=\S+|\s+\S+)?/g, "").trim();
    const requirement = withoutOptions.split(/\s*;\s*/, 1)[0]!;
    const name = NAME.exec(requirement);
    if (!name) {
      // A bare URL or path (`./pkg`, `https://…/x.whl`) names no project by itself.
      warnings.push({ message: `not a requirement pip names by project: ${requirement.length > 80 ? `${requirement.slice(0, 80)}…` : requirement}`, where: `${file}:${line}` });
      continue;
    }
    const rest = requirement.slice(name[0].length).trim();
    let version: string | null = null;
    let source: DeclaredPackage["source"] | undefined;
    let requested = rest;
    if (rest.startsWith("@")) {
      const location = withoutCredentials(rest.slice(1).trim());
      source = { type: /^git\+/.test(location) ? "git" : /^file:/.test(location) ? "path" : "url", location };
      requested = `@ ${location}`;
    } else {
      const spec = rest.replace(/^\(|\)$/g, "").replace(/\s+/g, "");
      requested = spec;
      const pinned = /^===?([^,*!<>=~]+)$/.exec(spec);
      if (pinned) version = pinned[1]!;
    }
    packages.push({
      key: normalizePypiName(name[1]!),
      ecosystem: "pypi",
      name: name[1]!,
      version,
      direct: true,
      ...(requested ? { requested } : {}),
      ...(source ? { source } : { source: { type: "registry" as const } }),
    });
  }
  return { kind: "requirements.txt", role: "manifest", ecosystem: "pypi", format: includes.length ? `includes ${includes.join(", ")}` : null, project: null, packages, warnings };
}

type Toml = Record<string, unknown>;
const isObject = (v: unknown): v is Toml => typeof v === "object" && v !== null && !Array.isArray(v);

export function parsePoetryLock(text: string, file: string): ParsedManifest {
  const doc = parseTomlText(text);
  const warnings: ParsedManifest["warnings"] = [];
  const list = Array.isArray(doc.package) ? doc.package : [];
  if (!Array.isArray(doc.package)) warnings.push({ message: "no [[package]] entries", where: file });
  const byName = new Map<string, string>();
  const entries: { entry: Toml; key: string }[] = [];
  for (const [i, entry] of list.entries()) {
    if (!isObject(entry) || typeof entry.name !== "string" || typeof entry.version !== "string") {
      warnings.push({ message: "package entry without a name and version", where: `${file}#/package/${i}` });
      continue;
    }
    const key = normalizePypiName(entry.name);
    byName.set(key, key);
    entries.push({ entry, key });
  }
  const packages: DeclaredPackage[] = entries.map(({ entry, key }) => {
    const src = isObject(entry.source) ? entry.source : null;
    const type = typeof src?.type === "string" ? src.type : null;
    const source: DeclaredPackage["source"] =
      type === "git"
        ? { type: "git", location: withoutCredentials(`${String(src!.url ?? "")}${src!.resolved_reference ? `@${String(src!.resolved_reference)}` : ""}`) }
        : type === "directory" || type === "file"
          ? { type: "path", location: String(src!.url ?? "") }
          : type === "url"
            ? { type: "url", location: withoutCredentials(String(src!.url ?? "")) }
            : { type: "registry" };
    const deps = isObject(entry.dependencies) ? Object.keys(entry.dependencies) : [];
    const groups = Array.isArray(entry.groups) ? entry.groups.map(String) : null;
    // Poetry < 1.5 wrote `category = "dev"`; newer locks list groups (`main`, `dev`, …).
    const dev = entry.category === "dev" || (groups !== null && !groups.includes("main")) || undefined;
    return {
      key,
      ecosystem: "pypi" as const,
      name: entry.name as string,
      version: entry.version as string,
      direct: null,
      dev,
      optional: entry.optional === true || undefined,
      source,
      dependsOn: deps.map(normalizePypiName).filter((d) => byName.has(d)),
    };
  });
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  return {
    kind: "poetry.lock",
    role: "lockfile",
    ecosystem: "pypi",
    format: typeof meta["lock-version"] === "string" ? `lock-version ${meta["lock-version"]}` : null,
    project: null,
    packages,
    warnings,
  };
}
