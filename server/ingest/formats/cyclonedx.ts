// CycloneDX 1.4–1.6 JSON → graph. Components (nested ones too) become package-like assets keyed by purl, services
// become service assets, `dependencies` become depends_on relations, nesting becomes contains relations, and each
// vulnerability becomes one finding per component it affects. Components are compacted as they stream in.
import { fingerprintOf, isRecord, oneLine, severityFromScore, severityFromWord, severityRank, str, type GraphAsset, type GraphFinding, type GraphRelation, type Severity, type WarningList } from "../graph.ts";

export const CYCLONEDX_VERSIONS = ["1.4", "1.5", "1.6"] as const;

interface CompactComponent {
  ref: string | null;
  assetId: string;
  assetType: string;
  name: string;
  properties: Record<string, unknown>;
  parentAssetId: string | null;
}

interface CompactVulnerability {
  pointer: string;
  id: string;
  source: string | null;
  severity: Severity | null;
  score: number | null;
  description: string | null;
  recommendation: string | null;
  cwes: number[];
  analysis: { state: string | null; justification: string | null } | null;
  affects: string[];
}

/** Component types → asset types (the package family keeps "package"). */
const ASSET_TYPES: Record<string, string> = {
  library: "package",
  framework: "package",
  application: "package",
  container: "image",
  "operating-system": "operating_system",
  device: "device",
  firmware: "firmware",
  file: "file",
  platform: "platform",
  "device-driver": "device_driver",
  "machine-learning-model": "ml_model",
  data: "data",
  "cryptographic-asset": "crypto_asset",
};

const VEX_CLEARED = new Set(["not_affected", "false_positive", "resolved", "resolved_with_pedigree"]);

export class CycloneDxCollector {
  bomFormat: unknown = undefined;
  specVersion: unknown = undefined;
  metadata: Record<string, unknown> | null = null;
  readonly components: CompactComponent[] = [];
  readonly services: CompactComponent[] = [];
  readonly dependencies: { pointer: string; ref: string; dependsOn: string[] }[] = [];
  readonly vulnerabilities: CompactVulnerability[] = [];
  topLevelComponents = 0;
  topLevelServices = 0;
  dependencyEntries = 0;
  vulnerabilityEntries = 0;

  constructor(private readonly warnings: WarningList) {}

  /** One entry of /components (with its nested components), or of /metadata/component. */
  component(pointer: string, value: unknown, parentAssetId: string | null = null, topLevel = true) {
    if (topLevel) this.topLevelComponents++;
    if (!isRecord(value)) {
      this.warnings.add("component is not an object and was skipped", pointer);
      return;
    }
    const c = compactComponent(value);
    if (!c) {
      this.warnings.add("component has no name and was skipped", pointer);
      return;
    }
    this.components.push({ ...c, parentAssetId });
    if (Array.isArray(value.components)) value.components.forEach((child, i) => this.component(`${pointer}/components/${i}`, child, c.assetId, false));
  }

  service(pointer: string, value: unknown, parentAssetId: string | null = null, topLevel = true) {
    if (topLevel) this.topLevelServices++;
    if (!isRecord(value)) {
      this.warnings.add("service is not an object and was skipped", pointer);
      return;
    }
    const name = str(value.name);
    if (!name) {
      this.warnings.add("service has no name and was skipped", pointer);
      return;
    }
    const group = str(value.group);
    const version = str(value.version);
    const assetId = `service:${group ? `${group}/` : ""}${name}${version ? `@${version}` : ""}`;
    const endpoints = Array.isArray(value.endpoints) ? value.endpoints.filter((e): e is string => typeof e === "string").slice(0, 50) : [];
    this.services.push({
      ref: str(value["bom-ref"]),
      assetId,
      assetType: "service",
      name,
      properties: { format: "cyclonedx", name, group, version, endpoints, authenticated: typeof value.authenticated === "boolean" ? value.authenticated : null, x_trust_boundary: typeof value["x-trust-boundary"] === "boolean" ? value["x-trust-boundary"] : null },
      parentAssetId,
    });
    if (Array.isArray(value.services)) value.services.forEach((child, i) => this.service(`${pointer}/services/${i}`, child, assetId, false));
  }

  dependency(pointer: string, value: unknown) {
    this.dependencyEntries++;
    if (!isRecord(value) || !str(value.ref)) {
      this.warnings.add("dependency entry has no ref and was skipped", pointer);
      return;
    }
    const dependsOn = Array.isArray(value.dependsOn) ? value.dependsOn.filter((d): d is string => typeof d === "string") : [];
    this.dependencies.push({ pointer, ref: value.ref as string, dependsOn });
  }

  vulnerability(pointer: string, value: unknown) {
    this.vulnerabilityEntries++;
    if (!isRecord(value)) {
      this.warnings.add("vulnerability is not an object and was skipped", pointer);
      return;
    }
    const id = str(value.id) ?? str(value["bom-ref"]);
    if (!id) {
      this.warnings.add("vulnerability has no id and was skipped", pointer);
      return;
    }
    let severity: Severity | null = null;
    let score: number | null = null;
    for (const rating of Array.isArray(value.ratings) ? value.ratings : []) {
      if (!isRecord(rating)) continue;
      const s = typeof rating.score === "number" ? rating.score : null;
      const sev = severityFromWord(rating.severity) ?? (s !== null ? severityFromScore(s) : null);
      // "none" and "unknown" ratings (e.g. a vendor's environmental score of 0) do not lower another source's rating.
      if (!sev || rating.severity === "none" || rating.severity === "unknown") continue;
      if (!severity || severityRank(sev) < severityRank(severity)) {
        severity = sev;
        score = s;
      }
    }
    const analysis = isRecord(value.analysis) ? { state: str(value.analysis.state), justification: str(value.analysis.justification) } : null;
    const source = isRecord(value.source) ? str(value.source.name) : null;
    const affects = (Array.isArray(value.affects) ? value.affects : []).map((a) => (isRecord(a) ? str(a.ref) : null)).filter((r): r is string => r !== null);
    this.vulnerabilities.push({
      pointer,
      id,
      source,
      severity,
      score,
      description: str(value.description) ?? str(value.detail),
      recommendation: str(value.recommendation),
      cwes: Array.isArray(value.cwes) ? value.cwes.filter((c): c is number => typeof c === "number").slice(0, 20) : [],
      analysis,
      affects: [...new Set(affects)],
    });
  }

  finish(): { assets: GraphAsset[]; relations: GraphRelation[]; findings: GraphFinding[]; counts: Record<string, number>; tools: string[] } {
    const assets = new Map<string, GraphAsset>();
    const byRef = new Map<string, string>();
    const relations = new Map<string, GraphRelation>();
    const addRelation = (type: string, from: string, to: string) => {
      if (from !== to) relations.set(`${type}>${from}>${to}`, { type, from, to });
    };
    const addAsset = (c: CompactComponent) => {
      if (!assets.has(c.assetId)) assets.set(c.assetId, { id: c.assetId, type: c.assetType, name: c.name, properties: c.properties });
      if (c.ref && !byRef.has(c.ref)) byRef.set(c.ref, c.assetId);
      if (c.parentAssetId) addRelation("contains", c.parentAssetId, c.assetId);
    };

    // The subject of the BOM (metadata.component) is an asset too: dependencies and VEX statements point at it.
    let subjectId: string | null = null;
    const metaComponent = this.metadata && isRecord(this.metadata.component) ? this.metadata.component : null;
    const metaComponents: CompactComponent[] = [];
    if (metaComponent) {
      const collector = new CycloneDxCollector(this.warnings);
      collector.component("/metadata/component", metaComponent, null, false);
      metaComponents.push(...collector.components);
      subjectId = metaComponents[0]?.assetId ?? null;
      if (metaComponents[0]) metaComponents[0] = { ...metaComponents[0], properties: { ...metaComponents[0].properties, bom_subject: true } };
    }
    for (const c of metaComponents) addAsset(c);
    for (const c of this.components) addAsset(c);
    for (const s of this.services) addAsset(s);

    let unresolved = 0;
    for (const d of this.dependencies) {
      const from = byRef.get(d.ref);
      if (!from) {
        unresolved++;
        this.warnings.add(`dependency ref "${d.ref}" names no component or service in this document`, `${d.pointer}/ref`);
        continue;
      }
      for (const [i, target] of d.dependsOn.entries()) {
        const to = byRef.get(target);
        if (!to) {
          unresolved++;
          this.warnings.add(`dependsOn "${target}" names no component or service in this document`, `${d.pointer}/dependsOn/${i}`);
          continue;
        }
        addRelation("depends_on", from, to);
      }
    }

    const findings = new Map<string, GraphFinding>();
    let affected = 0;
    for (const v of this.vulnerabilities) {
      const targets = v.affects.length ? v.affects : [null];
      for (const ref of targets) {
        const assetId = ref ? (byRef.get(ref) ?? null) : subjectId;
        if (ref && !assetId) this.warnings.add(`affects ref "${ref}" names no component or service in this document; the finding has no asset`, `${v.pointer}/affects`);
        affected++;
        const cleared = v.analysis?.state ? VEX_CLEARED.has(v.analysis.state) : false;
        const rated = v.severity ?? (v.score !== null ? severityFromScore(v.score) : null) ?? "medium";
        const fp = fingerprintOf("cyclonedx", v.id, assetId ?? ref ?? "");
        if (findings.has(fp)) continue;
        const asset = assetId ? assets.get(assetId) : undefined;
        findings.set(fp, {
          fingerprint: fp,
          rule: v.id,
          // A VEX statement that the product is not affected (or the finding is false or resolved) keeps the finding
          // visible with its rating in details, at info severity.
          severity: cleared ? "info" : rated,
          title: oneLine(`${v.id}${asset ? ` in ${asset.name}${asset.properties.version ? `@${String(asset.properties.version)}` : ""}` : ""}${v.description ? `: ${v.description}` : ""}`),
          ...(assetId ? { asset: assetId } : {}),
          where: v.pointer,
          details: {
            format: "cyclonedx",
            vulnerability: v.id,
            source: v.source,
            rated_severity: rated,
            score: v.score,
            description: v.description ? v.description.slice(0, 2000) : null,
            recommendation: v.recommendation,
            cwes: v.cwes,
            vex: v.analysis,
            affected_ref: ref,
          },
        });
      }
    }

    const tools: string[] = [];
    const metaTools = this.metadata?.tools;
    const toolList = Array.isArray(metaTools) ? metaTools : isRecord(metaTools) && Array.isArray(metaTools.components) ? metaTools.components : [];
    for (const t of toolList) if (isRecord(t) && str(t.name)) tools.push(`${t.name as string}${str(t.version) ? ` ${t.version as string}` : ""}`);

    return {
      assets: [...assets.values()],
      relations: [...relations.values()],
      findings: [...findings.values()],
      counts: {
        components: this.components.length,
        components_top_level: this.topLevelComponents,
        services: this.services.length,
        dependencies: this.dependencyEntries,
        vulnerabilities: this.vulnerabilityEntries,
        affected_components: affected,
        unresolved_refs: unresolved,
      },
      tools,
    };
  }
}

function compactComponent(value: Record<string, unknown>): Omit<CompactComponent, "parentAssetId"> | null {
  const name = str(value.name);
  if (!name) return null;
  const type = str(value.type) ?? "library";
  const group = str(value.group);
  const version = str(value.version);
  const purl = str(value.purl);
  const cpe = str(value.cpe);
  const assetId = purl ?? cpe ?? `component:${type}/${group ? `${group}/` : ""}${name}${version ? `@${version}` : ""}`;
  const licenses: string[] = [];
  for (const l of Array.isArray(value.licenses) ? value.licenses.slice(0, 10) : []) {
    if (!isRecord(l)) continue;
    if (str(l.expression)) licenses.push(l.expression as string);
    else if (isRecord(l.license)) {
      const id = str(l.license.id) ?? str(l.license.name);
      if (id) licenses.push(id);
    }
  }
  return {
    ref: str(value["bom-ref"]),
    assetId,
    assetType: ASSET_TYPES[type] ?? "component",
    name: group ? `${group}/${name}` : name,
    properties: { format: "cyclonedx", component_type: type, name, group, version, purl, cpe, scope: str(value.scope), licenses },
  };
}
