// What a dependency manifest or lockfile says, whatever its format: the packages it names (with the version it
// pins, when it pins one), which of them the project asks for directly, and which depend on which.
import { PackageURL } from "packageurl-js";

export type Ecosystem = "npm" | "pypi" | "golang" | "cargo";

export const MANIFEST_KINDS = ["package-lock.json", "package.json", "requirements.txt", "poetry.lock", "go.mod", "Cargo.lock"] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

export interface DeclaredPackage {
  /** Identity inside this file (an npm install path, `name version` in Cargo.lock, the name elsewhere). */
  key: string;
  ecosystem: Ecosystem;
  name: string;
  /** The exact version this file pins, or null when it only gives a range (or nothing). */
  version: string | null;
  /** Asked for by the project itself (not only pulled in by another package); null when the file cannot tell. */
  direct: boolean | null;
  dev?: boolean;
  optional?: boolean;
  /** The requirement as written (`^4.17.1`, `>=2,<3`), when the file has one. */
  requested?: string;
  /** registry (the ecosystem's default), git, path, url — and the location for the last three, without credentials. */
  source?: { type: "registry" | "git" | "path" | "url"; location?: string };
  /** Keys (in this file) of the packages this one depends on. */
  dependsOn?: string[];
}

export interface ParsedManifest {
  kind: ManifestKind;
  role: "manifest" | "lockfile";
  ecosystem: Ecosystem;
  /** e.g. `lockfileVersion 3`, `Cargo.lock version 3`, `go 1.20`. */
  format: string | null;
  /** The project the file describes (package.json name/version, go.mod module). */
  project: { name: string | null; version: string | null } | null;
  packages: DeclaredPackage[];
  /** Problems inside the file that did not stop parsing (where: `path:line` or a JSON pointer). */
  warnings: { message: string; where?: string }[];
}

/** The file could not be parsed at all. */
export class ManifestParseError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "ManifestParseError";
  }
}

export function manifestKindOf(fileName: string): ManifestKind | null {
  const name = fileName;
  if ((MANIFEST_KINDS as readonly string[]).includes(name)) return name as ManifestKind;
  // requirements.txt, requirements-dev.txt, requirements_test.txt, dev-requirements.txt …
  if (/^([\w.-]*[-_.])?requirements([-_.][\w.-]*)?\.txt$/i.test(name)) return "requirements.txt";
  return null;
}

/** Credentials never leave a URL found in a manifest (private registries put tokens there). */
export function withoutCredentials(location: string): string {
  try {
    const url = new URL(location);
    if (!url.username && !url.password) return location;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return location.replace(/\/\/[^/@\s]+@/, "//");
  }
}

/** PEP 503 normalisation: what pip compares names by. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The package's purl (https://github.com/package-url/purl-spec): the stable key of a package asset. */
export function purlOf(ecosystem: Ecosystem, name: string, version: string | null): string {
  let namespace: string | null = null;
  let base = name;
  if (ecosystem === "npm" && name.startsWith("@") && name.includes("/")) {
    namespace = name.slice(0, name.indexOf("/"));
    base = name.slice(name.indexOf("/") + 1);
  } else if (ecosystem === "golang" && name.includes("/")) {
    namespace = name.slice(0, name.lastIndexOf("/"));
    base = name.slice(name.lastIndexOf("/") + 1);
  } else if (ecosystem === "pypi") {
    base = normalizePypiName(name);
  }
  return new PackageURL(ecosystem, namespace, base, version ?? undefined, undefined, undefined).toString();
}
