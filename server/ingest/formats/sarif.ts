// SARIF 2.1.0 → graph. Results become findings (rule, severity, file:line, a fingerprint that survives re-runs) on
// file assets, which belong to the run's repository when the run names one (versionControlProvenance). Entries are
// compacted as they stream in; the mapping runs once the document has been read, because rules may come after
// the results that use them.
import { fingerprintOf, isRecord, oneLine, severityFromScore, severityFromWord, str, type GraphAsset, type GraphFinding, type GraphRelation, type Severity, type WarningList } from "../graph.ts";

interface CompactRule {
  id: string | null;
  name: string | null;
  shortDescription: string | null;
  level: string | null;
  securitySeverity: number | null;
  helpUri: string | null;
  tags: string[];
}

interface CompactResult {
  pointer: string;
  ruleId: string | null;
  ruleIndex: number | null;
  level: string | null;
  kind: string | null;
  message: string | null;
  uri: string | null;
  artifactIndex: number | null;
  startLine: number | null;
  startColumn: number | null;
  logical: string | null;
  fingerprints: [string, string][];
  partialFingerprints: [string, string][];
  securitySeverity: number | null;
  severityWord: string | null;
  suppressed: boolean;
}

interface RunState {
  toolName: string | null;
  toolVersion: string | null;
  rules: CompactRule[];
  results: CompactResult[];
  artifacts: (string | null)[];
  repositoryUri: string | null;
  revision: string | null;
}

const text = (v: unknown): string | null => (isRecord(v) ? (str(v.text) ?? str(v.markdown)) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : null);

function stringEntries(v: unknown): [string, string][] {
  if (!isRecord(v)) return [];
  return Object.entries(v)
    .filter((e): e is [string, string] => typeof e[1] === "string" && e[1].length > 0)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A URI as a stable path: file:// prefixes dropped, "./" dropped; relative paths stay relative. */
export function normalizeUri(uri: string): string {
  let u = uri.trim();
  if (/^file:/i.test(u)) {
    u = u.replace(/^file:(\/\/)?/i, "");
    try {
      u = decodeURIComponent(u);
    } catch {
      // keep as written
    }
    // file:///C:/x → C:/x
    if (/^\/[A-Za-z]:\//.test(u)) u = u.slice(1);
  }
  return u.replace(/^\.\//, "");
}

export class SarifCollector {
  readonly runs: RunState[] = [];
  sarifVersion: string | null = null;
  resultCount = 0;

  constructor(private readonly warnings: WarningList) {}

  private run(i: number): RunState {
    while (this.runs.length <= i) this.runs.push({ toolName: null, toolVersion: null, rules: [], results: [], artifacts: [], repositoryUri: null, revision: null });
    return this.runs[i]!;
  }

  /** Makes sure a run exists even when it has no results or tool (it still counts as a run). */
  touchRun(i: number) {
    this.run(i);
  }

  driverField(runIndex: number, field: string, value: unknown) {
    const run = this.run(runIndex);
    if (field === "name") run.toolName = str(value) ?? run.toolName;
    else if ((field === "version" || field === "semanticVersion") && str(value)) run.toolVersion = field === "version" ? (value as string) : (run.toolVersion ?? (value as string));
  }

  rule(runIndex: number, pointer: string, value: unknown) {
    const run = this.run(runIndex);
    if (!isRecord(value)) {
      this.warnings.add("rule is not an object and was skipped", pointer);
      run.rules.push({ id: null, name: null, shortDescription: null, level: null, securitySeverity: null, helpUri: null, tags: [] });
      return;
    }
    const props = isRecord(value.properties) ? value.properties : {};
    const config = isRecord(value.defaultConfiguration) ? value.defaultConfiguration : {};
    run.rules.push({
      id: str(value.id),
      name: str(value.name),
      shortDescription: text(value.shortDescription) ?? text(value.fullDescription),
      level: str(config.level),
      securitySeverity: num(props["security-severity"]),
      helpUri: str(value.helpUri),
      tags: Array.isArray(props.tags) ? props.tags.filter((t): t is string => typeof t === "string").slice(0, 20) : [],
    });
  }

  artifact(runIndex: number, value: unknown) {
    const run = this.run(runIndex);
    const loc = isRecord(value) && isRecord(value.location) ? value.location : null;
    run.artifacts.push(loc ? str(loc.uri) : null);
  }

  versionControl(runIndex: number, pointer: string, value: unknown) {
    const run = this.run(runIndex);
    if (!Array.isArray(value)) {
      this.warnings.add("versionControlProvenance is not an array and was ignored", pointer);
      return;
    }
    const first = value.find(isRecord);
    if (first) {
      run.repositoryUri = str(first.repositoryUri);
      run.revision = str(first.revisionId);
    }
  }

  result(runIndex: number, pointer: string, value: unknown) {
    this.resultCount++;
    const run = this.run(runIndex);
    if (!isRecord(value)) {
      this.warnings.add("result is not an object and was skipped", pointer);
      return;
    }
    const rule = isRecord(value.rule) ? value.rule : {};
    const locations = Array.isArray(value.locations) ? value.locations : [];
    const loc = isRecord(locations[0]) ? locations[0] : {};
    const physical = isRecord(loc.physicalLocation) ? loc.physicalLocation : {};
    const artifact = isRecord(physical.artifactLocation) ? physical.artifactLocation : {};
    const region = isRecord(physical.region) ? physical.region : {};
    const logicals = Array.isArray(loc.logicalLocations) ? loc.logicalLocations : [];
    const logical = isRecord(logicals[0]) ? (str(logicals[0].fullyQualifiedName) ?? str(logicals[0].name)) : null;
    const props = isRecord(value.properties) ? value.properties : {};
    const suppressions = Array.isArray(value.suppressions) ? value.suppressions : [];
    run.results.push({
      pointer,
      ruleId: str(value.ruleId) ?? str(rule.id),
      ruleIndex: int(value.ruleIndex) ?? int(rule.index),
      level: str(value.level),
      kind: str(value.kind),
      message: text(value.message),
      uri: str(artifact.uri),
      artifactIndex: int(artifact.index),
      startLine: int(region.startLine),
      startColumn: int(region.startColumn),
      logical,
      fingerprints: stringEntries(value.fingerprints),
      partialFingerprints: stringEntries(value.partialFingerprints),
      securitySeverity: num(props["security-severity"]),
      severityWord: str(props.issue_severity) ?? str(props.severity),
      suppressed: suppressions.some((s) => isRecord(s) && (s.status === undefined || s.status === "accepted")),
    });
  }

  /** Maps every run to assets, relations and findings. `base` names where file paths are relative to when no repository is known. */
  finish(base: string): { assets: GraphAsset[]; relations: GraphRelation[]; findings: GraphFinding[]; counts: Record<string, number>; tools: string[] } {
    const assets = new Map<string, GraphAsset>();
    const relations = new Map<string, GraphRelation>();
    const findings = new Map<string, GraphFinding>();
    let rules = 0;
    let suppressed = 0;
    let notProblems = 0;
    const tools: string[] = [];

    for (const [runIndex, run] of this.runs.entries()) {
      rules += run.rules.length;
      const tool = run.toolName ?? "unknown tool";
      if (!tools.includes(tool)) tools.push(tool);
      const byId = new Map<string, CompactRule>();
      for (const r of run.rules) if (r.id && !byId.has(r.id)) byId.set(r.id, r);

      let repoId: string | null = null;
      if (run.repositoryUri) {
        repoId = `repo:${run.repositoryUri}`;
        if (!assets.has(repoId)) assets.set(repoId, { id: repoId, type: "repository", name: run.repositoryUri, properties: { url: run.repositoryUri, revision: run.revision } });
      }
      const fileBase = run.repositoryUri ?? base;

      for (const r of run.results) {
        // kind other than "fail" (pass, notApplicable, informational, review, open) is not a problem found.
        if (r.kind && r.kind !== "fail") {
          notProblems++;
          continue;
        }
        const rule = (r.ruleIndex !== null ? run.rules[r.ruleIndex] : undefined) ?? (r.ruleId ? byId.get(r.ruleId) : undefined);
        const ruleId = r.ruleId ?? rule?.id ?? "sarif.result";
        const rawUri = r.uri ?? (r.artifactIndex !== null ? (run.artifacts[r.artifactIndex] ?? null) : null);
        const path = rawUri ? normalizeUri(rawUri) : null;

        let assetId: string | undefined;
        if (path) {
          assetId = `file:${fileBase}/${path}`;
          if (!assets.has(assetId)) assets.set(assetId, { id: assetId, type: "file", name: path, properties: { path, ...(run.repositoryUri ? { repository: run.repositoryUri } : {}) } });
          if (repoId) relations.set(`${repoId}>${assetId}`, { type: "contains", from: repoId, to: assetId });
        } else if (repoId) {
          assetId = repoId;
        }

        const where = path ? (r.startLine !== null ? `${path}:${r.startLine}` : path) : (r.logical ?? undefined);
        const message = r.message ?? rule?.shortDescription ?? ruleId;
        const fp =
          r.fingerprints.length > 0
            ? fingerprintOf("sarif", tool, ruleId, "fingerprints", ...r.fingerprints.flat())
            : r.partialFingerprints.length > 0
              ? fingerprintOf("sarif", tool, ruleId, "partial", path, ...r.partialFingerprints.flat())
              : fingerprintOf("sarif", tool, ruleId, "location", path ?? r.logical, r.startLine, message);

        const existing = findings.get(fp);
        if (existing) {
          existing.details.occurrences = (existing.details.occurrences as number) + 1;
          continue;
        }
        if (r.suppressed) suppressed++;
        findings.set(fp, {
          fingerprint: fp,
          rule: ruleId,
          severity: sarifSeverity(r, rule, ruleId),
          title: oneLine(message),
          ...(assetId ? { asset: assetId } : {}),
          ...(where ? { where } : {}),
          details: {
            format: "sarif",
            tool,
            tool_version: run.toolVersion,
            level: r.level ?? rule?.level ?? "warning",
            message: message.length > 2000 ? `${message.slice(0, 1999)}…` : message,
            rule_name: rule?.name ?? null,
            help_uri: rule?.helpUri ?? null,
            tags: rule?.tags ?? [],
            line: r.startLine,
            column: r.startColumn,
            document_pointer: r.pointer,
            run_index: runIndex,
            suppressed_in_source: r.suppressed,
            occurrences: 1,
          },
        });
      }
    }
    return {
      assets: [...assets.values()],
      relations: [...relations.values()],
      findings: [...findings.values()],
      counts: { runs: this.runs.length, results: this.resultCount, rules, results_not_problems: notProblems, results_suppressed_in_source: suppressed },
      tools,
    };
  }
}

/**
 * Severity, most specific first: a numeric security-severity (CodeQL, GitHub), a severity word in the result's
 * properties (Bandit's issue_severity), a "[HIGH]" prefix on the rule id (Trivy's template), the rule's
 * security-severity, then the SARIF level (error → high, warning → medium, note → low, none → info).
 */
export function sarifSeverity(r: Pick<CompactResult, "securitySeverity" | "severityWord" | "level">, rule: CompactRule | undefined, ruleId: string): Severity {
  if (r.securitySeverity !== null) return severityFromScore(r.securitySeverity) ?? "medium";
  const fromWord = severityFromWord(r.severityWord);
  if (fromWord) return fromWord;
  const prefix = /^\[([A-Za-z]+)\]/.exec(ruleId)?.[1];
  const fromPrefix = prefix ? severityFromWord(prefix) : null;
  if (fromPrefix) return fromPrefix;
  if (rule?.securitySeverity != null) return severityFromScore(rule.securitySeverity) ?? "medium";
  switch (r.level ?? rule?.level ?? "warning") {
    case "error":
      return "high";
    case "note":
      return "low";
    case "none":
      return "info";
    default:
      return "medium";
  }
}
