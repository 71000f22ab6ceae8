// One streamed pass over a pushed document, whatever its format: the visitor routes the members of SARIF, CycloneDX
// and SPDX to their collectors (their top-level keys do not overlap), and the format is decided from the content
// once the document has been read — top-level key order is not fixed (Bandit writes `version` last).
import { DocumentError, walkJson, whereOf, Want, DEFAULT_STREAM_LIMITS, type JsonVisitor, type PathSegment, type StreamLimits, type ValueKind, type WalkStats } from "./json-stream.ts";
import { SarifCollector } from "./formats/sarif.ts";
import { CycloneDxCollector, CYCLONEDX_VERSIONS } from "./formats/cyclonedx.ts";
import { SpdxCollector } from "./formats/spdx.ts";
import { WarningList, str, type DocumentFormat, type ParsedDocument } from "./graph.ts";

export interface ReaderLimits extends StreamLimits {
  /** Most entries in any one collection (results, components, packages, …). */
  maxEntries: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = { ...DEFAULT_STREAM_LIMITS, maxEntries: 1_000_000 };

export interface ReadOptions {
  /** Base for file assets of SARIF runs that name no repository (e.g. "source/<id>"). */
  fileBase: string;
  limits?: ReaderLimits;
  signal?: AbortSignal;
  /** Formats this source accepts (all when absent). */
  accept?: readonly DocumentFormat[];
}

// Top-level members and the container kind each must have (checked once the format is known).
const ARRAYS: Record<string, DocumentFormat> = {
  runs: "sarif",
  components: "cyclonedx",
  services: "cyclonedx",
  dependencies: "cyclonedx",
  vulnerabilities: "cyclonedx",
  packages: "spdx",
  files: "spdx",
  relationships: "spdx",
  documentDescribes: "spdx",
};
const SCALARS = new Set(["version", "$schema", "bomFormat", "specVersion", "spdxVersion", "name", "documentNamespace", "SPDXID"]);
const OBJECTS = new Set(["metadata", "creationInfo"]);
const ENTRY_NAMES: Record<string, string> = {
  runs: "runs",
  components: "components",
  services: "services",
  dependencies: "dependencies",
  vulnerabilities: "vulnerabilities",
  packages: "packages",
  files: "files",
  relationships: "relationships",
  results: "results",
  rules: "rules",
  artifacts: "artifacts",
};

class DocumentVisitor implements JsonVisitor {
  readonly warnings = new WarningList();
  readonly sarif = new SarifCollector(this.warnings);
  readonly cdx = new CycloneDxCollector(this.warnings);
  readonly spdx = new SpdxCollector(this.warnings);
  readonly scalars = new Map<string, unknown>();
  readonly topKeys: string[] = [];
  /** Top-level members whose kind was wrong (decided to matter only once the format is known). */
  readonly wrongKinds = new Map<string, ValueKind>();
  private readonly entries = new Map<string, number>();

  constructor(private readonly limits: ReaderLimits) {}

  private count(path: readonly PathSegment[], collection: string) {
    const key = path.slice(0, -1).join("/");
    const n = (this.entries.get(key) ?? 0) + 1;
    this.entries.set(key, n);
    if (n > this.limits.maxEntries) {
      throw new DocumentError("limit", `more than ${this.limits.maxEntries.toLocaleString("en-US")} ${ENTRY_NAMES[collection] ?? "entries"} in one array: split the document`, whereOf(path));
    }
  }

  want(path: readonly PathSegment[], kind: ValueKind): Want {
    const depth = path.length;
    if (depth === 0) {
      if (kind !== "object") throw new DocumentError("type", `the document must be a JSON object (SARIF, CycloneDX or SPDX), not ${kind === "array" ? "an array" : `a ${kind}`}`, "/");
      return Want.Descend;
    }
    const top = path[0] as string;
    if (depth === 1) {
      if (!this.topKeys.includes(top) && this.topKeys.length < 50) this.topKeys.push(top);
      if (top in ARRAYS) {
        if (kind !== "array") {
          this.wrongKinds.set(top, kind);
          return Want.Skip;
        }
        return top === "documentDescribes" ? Want.Assemble : Want.Descend;
      }
      if (OBJECTS.has(top)) {
        if (kind !== "object") {
          this.wrongKinds.set(top, kind);
          return Want.Skip;
        }
        return Want.Assemble;
      }
      return SCALARS.has(top) ? Want.Assemble : Want.Skip;
    }
    if (top === "runs") return this.wantInRun(path, kind);
    if (depth === 2) {
      this.count(path, top);
      return Want.Assemble;
    }
    return Want.Skip;
  }

  private wantInRun(path: readonly PathSegment[], kind: ValueKind): Want {
    const depth = path.length;
    if (depth === 2) {
      this.count(path, "runs");
      if (kind !== "object") {
        this.warnings.add("run is not an object and was skipped", whereOf(path));
        return Want.Skip;
      }
      this.sarif.touchRun(path[1] as number);
      return Want.Descend;
    }
    const member = path[2];
    if (depth === 3) {
      if (member === "tool") return kind === "object" ? Want.Descend : Want.Skip;
      if (member === "results" || member === "artifacts") {
        if (kind !== "array") {
          this.warnings.add(`${member} is not an array and was ignored`, whereOf(path));
          return Want.Skip;
        }
        return Want.Descend;
      }
      if (member === "versionControlProvenance") return Want.Assemble;
      return Want.Skip;
    }
    if (member === "tool") {
      if (depth === 4) return path[3] === "driver" && kind === "object" ? Want.Descend : Want.Skip;
      if (depth === 5) {
        const field = path[4];
        if (field === "rules") return kind === "array" ? Want.Descend : Want.Skip;
        return field === "name" || field === "version" || field === "semanticVersion" ? Want.Assemble : Want.Skip;
      }
      if (depth === 6 && path[4] === "rules") {
        this.count(path, "rules");
        return Want.Assemble;
      }
      return Want.Skip;
    }
    if (depth === 4 && (member === "results" || member === "artifacts")) {
      this.count(path, member);
      return Want.Assemble;
    }
    return Want.Skip;
  }

  onValue(path: readonly PathSegment[], value: unknown): void {
    const top = path[0] as string;
    const pointer = whereOf(path);
    if (path.length === 1) {
      if (top === "metadata") this.cdx.metadata = value as Record<string, unknown>;
      else if (top === "creationInfo") this.spdx.creators = Array.isArray((value as Record<string, unknown>).creators) ? ((value as Record<string, unknown>).creators as unknown[]).filter((c): c is string => typeof c === "string") : [];
      else if (top === "documentDescribes") this.spdx.documentDescribes = (value as unknown[]).filter((d): d is string => typeof d === "string");
      else this.scalars.set(top, value);
      return;
    }
    if (top === "runs") {
      const run = path[1] as number;
      const member = path[2];
      if (member === "tool" && path[4] === "rules") this.sarif.rule(run, pointer, value);
      else if (member === "tool") this.sarif.driverField(run, path[4] as string, value);
      else if (member === "results") this.sarif.result(run, pointer, value);
      else if (member === "artifacts") this.sarif.artifact(run, value);
      else if (member === "versionControlProvenance") this.sarif.versionControl(run, pointer, value);
      return;
    }
    switch (top) {
      case "components":
        this.cdx.component(pointer, value);
        return;
      case "services":
        this.cdx.service(pointer, value);
        return;
      case "dependencies":
        this.cdx.dependency(pointer, value);
        return;
      case "vulnerabilities":
        this.cdx.vulnerability(pointer, value);
        return;
      case "packages":
        this.spdx.package(pointer, value);
        return;
      case "files":
        this.spdx.file(pointer, value);
        return;
      case "relationships":
        this.spdx.relationship(pointer, value);
        return;
    }
  }

  detect(): { format: DocumentFormat; version: string } {
    const bomFormat = this.scalars.get("bomFormat");
    const spdxVersion = this.scalars.get("spdxVersion");
    const version = this.scalars.get("version");
    if (bomFormat !== undefined) {
      if (bomFormat !== "CycloneDX") throw new DocumentError("format", `bomFormat is ${JSON.stringify(bomFormat)}; only "CycloneDX" is accepted`, "/bomFormat");
      const spec = this.scalars.get("specVersion");
      if (typeof spec !== "string") throw new DocumentError("format", "specVersion is missing or not a string (CycloneDX 1.4, 1.5 or 1.6 expected)", "/specVersion");
      if (!(CYCLONEDX_VERSIONS as readonly string[]).includes(spec)) throw new DocumentError("format", `CycloneDX specVersion ${spec} is not supported: 1.4, 1.5 and 1.6 are`, "/specVersion");
      return { format: "cyclonedx", version: spec };
    }
    if (spdxVersion !== undefined) {
      if (spdxVersion !== "SPDX-2.3") throw new DocumentError("format", `spdxVersion is ${JSON.stringify(spdxVersion)}; only SPDX-2.3 JSON is accepted`, "/spdxVersion");
      return { format: "spdx", version: "SPDX-2.3" };
    }
    if (this.topKeys.includes("runs")) {
      if (version !== "2.1.0") throw new DocumentError("format", `SARIF version is ${version === undefined ? "missing" : JSON.stringify(version)}; only 2.1.0 is accepted`, "/version");
      return { format: "sarif", version: "2.1.0" };
    }
    throw new DocumentError(
      "format",
      `not a SARIF 2.1.0, CycloneDX or SPDX 2.3 document: expected "runs" (SARIF), "bomFormat" (CycloneDX) or "spdxVersion" (SPDX) at the top level; found ${this.topKeys.length ? this.topKeys.map((k) => JSON.stringify(k)).join(", ") : "no members"}`,
      "/",
    );
  }
}

export interface ReadResult extends ParsedDocument {
  stats: WalkStats;
}

/** Reads one pushed document from its bytes. Throws DocumentError (with a JSON pointer) when it cannot be used. */
export async function readDocument(chunks: AsyncIterable<Buffer | Uint8Array>, opts: ReadOptions): Promise<ReadResult> {
  const limits = opts.limits ?? DEFAULT_READER_LIMITS;
  const visitor = new DocumentVisitor(limits);
  const stats = await walkJson(chunks, visitor, limits, opts.signal);
  const { format, version } = visitor.detect();
  if (opts.accept && !opts.accept.includes(format)) throw new DocumentError("format", `this source accepts ${opts.accept.join(", ")} documents, not ${format}`, "/");
  for (const [key, kind] of visitor.wrongKinds) {
    if (ARRAYS[key] === format) throw new DocumentError("type", `${key} must be an array, not ${kind === "object" ? "an object" : `a ${kind}`}`, `/${key}`);
    if (format === "cyclonedx" && key === "metadata") throw new DocumentError("type", `metadata must be an object, not ${kind === "array" ? "an array" : `a ${kind}`}`, "/metadata");
  }
  if (stats.truncatedStrings) visitor.warnings.add(`${stats.truncatedStrings} string(s) longer than ${limits.maxStringChars} characters were cut`, stats.firstTruncatedAt ?? "/");

  let mapped;
  if (format === "sarif") mapped = visitor.sarif.finish(opts.fileBase);
  else if (format === "cyclonedx") mapped = visitor.cdx.finish();
  else {
    visitor.spdx.documentName = str(visitor.scalars.get("name"));
    visitor.spdx.documentNamespace = str(visitor.scalars.get("documentNamespace"));
    mapped = visitor.spdx.finish();
  }
  const counts: Record<string, number> = { ...mapped.counts, assets: mapped.assets.length, relations: mapped.relations.length, findings: mapped.findings.length };
  return {
    format,
    formatVersion: version,
    counts,
    graph: { assets: mapped.assets, relations: mapped.relations, findings: mapped.findings },
    warnings: visitor.warnings.list(),
    tools: mapped.tools,
    stats,
  };
}

export { DocumentError };
