// SPDX 2.3 JSON → graph. Packages become package assets (keyed by their purl external reference when they have one),
// files become file assets, relationships and hasFiles become relations, and SECURITY advisory references on a
// package become findings (one per advisory and package; SPDX gives them no rating, so they are medium).
import { fingerprintOf, isRecord, str, type GraphAsset, type GraphFinding, type GraphRelation, type WarningList } from "../graph.ts";

interface CompactPackage {
  pointer: string;
  spdxId: string;
  assetId: string;
  name: string;
  version: string | null;
  properties: Record<string, unknown>;
  advisories: string[];
  hasFiles: string[];
}

interface CompactFile {
  spdxId: string;
  fileName: string;
}

const DOCUMENT_ID = "SPDXRef-DOCUMENT";

export class SpdxCollector {
  spdxVersion: unknown = undefined;
  documentName: string | null = null;
  documentNamespace: string | null = null;
  documentDescribes: string[] = [];
  creators: string[] = [];
  readonly packages: CompactPackage[] = [];
  readonly files: CompactFile[] = [];
  readonly relationships: { pointer: string; from: string; type: string; to: string }[] = [];
  packageEntries = 0;
  fileEntries = 0;
  relationshipEntries = 0;

  constructor(private readonly warnings: WarningList) {}

  package(pointer: string, value: unknown) {
    this.packageEntries++;
    if (!isRecord(value) || !str(value.SPDXID) || !str(value.name)) {
      this.warnings.add("package without an SPDXID and a name was skipped", pointer);
      return;
    }
    const refs = Array.isArray(value.externalRefs) ? value.externalRefs.filter(isRecord) : [];
    const purl = refs.find((r) => r.referenceType === "purl" && str(r.referenceLocator));
    const cpe = refs.find((r) => typeof r.referenceType === "string" && r.referenceType.startsWith("cpe") && str(r.referenceLocator));
    const name = value.name as string;
    const version = str(value.versionInfo);
    const assetId = purl ? (purl.referenceLocator as string) : `pkg:generic/${encodeURIComponent(name)}${version ? `@${encodeURIComponent(version)}` : ""}`;
    const advisories = refs.filter((r) => String(r.referenceCategory ?? "").replace("_", "-").toUpperCase() === "SECURITY" && r.referenceType === "advisory" && str(r.referenceLocator)).map((r) => r.referenceLocator as string);
    this.packages.push({
      pointer,
      spdxId: value.SPDXID as string,
      assetId,
      name,
      version,
      advisories,
      hasFiles: Array.isArray(value.hasFiles) ? value.hasFiles.filter((f): f is string => typeof f === "string") : [],
      properties: {
        format: "spdx",
        name,
        version,
        purl: purl ? purl.referenceLocator : null,
        cpe: cpe ? cpe.referenceLocator : null,
        supplier: str(value.supplier),
        download_location: str(value.downloadLocation),
        license_concluded: str(value.licenseConcluded),
        license_declared: str(value.licenseDeclared),
        spdx_id: value.SPDXID,
      },
    });
  }

  file(pointer: string, value: unknown) {
    this.fileEntries++;
    if (!isRecord(value) || !str(value.SPDXID) || !str(value.fileName)) {
      this.warnings.add("file without an SPDXID and a fileName was skipped", pointer);
      return;
    }
    this.files.push({ spdxId: value.SPDXID as string, fileName: (value.fileName as string).replace(/^\.\//, "") });
  }

  relationship(pointer: string, value: unknown) {
    this.relationshipEntries++;
    if (!isRecord(value) || !str(value.spdxElementId) || !str(value.relationshipType) || !str(value.relatedSpdxElement)) {
      this.warnings.add("relationship without spdxElementId, relationshipType and relatedSpdxElement was skipped", pointer);
      return;
    }
    this.relationships.push({ pointer, from: value.spdxElementId as string, type: value.relationshipType as string, to: value.relatedSpdxElement as string });
  }

  finish(): { assets: GraphAsset[]; relations: GraphRelation[]; findings: GraphFinding[]; counts: Record<string, number>; tools: string[] } {
    const assets = new Map<string, GraphAsset>();
    const byId = new Map<string, string>();
    const described = new Set(this.documentDescribes);
    for (const r of this.relationships) if (r.from === DOCUMENT_ID && r.type === "DESCRIBES") described.add(r.to);

    for (const p of this.packages) {
      if (!assets.has(p.assetId)) assets.set(p.assetId, { id: p.assetId, type: "package", name: p.name, properties: { ...p.properties, described_by_document: described.has(p.spdxId) } });
      byId.set(p.spdxId, p.assetId);
    }
    const fileBase = this.documentName ?? this.documentNamespace ?? "spdx";
    for (const f of this.files) {
      const assetId = `file:spdx/${fileBase}/${f.fileName}`;
      if (!assets.has(assetId)) assets.set(assetId, { id: assetId, type: "file", name: f.fileName, properties: { format: "spdx", path: f.fileName, spdx_id: f.spdxId, document: fileBase } });
      byId.set(f.spdxId, assetId);
    }

    const relations = new Map<string, GraphRelation>();
    const add = (type: string, from: string, to: string) => {
      if (from !== to) relations.set(`${type}>${from}>${to}`, { type, from, to });
    };
    for (const p of this.packages) {
      for (const f of p.hasFiles) {
        const to = byId.get(f);
        if (to) add("contains", p.assetId, to);
      }
    }
    let skipped = 0;
    for (const r of this.relationships) {
      // Relationships of the document itself (DESCRIBES) mark what it describes; NONE/NOASSERTION targets say nothing.
      if (r.from === DOCUMENT_ID || r.to === DOCUMENT_ID || r.to === "NONE" || r.to === "NOASSERTION") continue;
      const from = byId.get(r.from);
      const to = byId.get(r.to);
      if (!from || !to) {
        skipped++;
        this.warnings.add(`relationship ${r.type} refers to ${!from ? r.from : r.to}, which is not a package or file of this document`, r.pointer);
        continue;
      }
      add(r.type.toLowerCase(), from, to);
    }

    const findings: GraphFinding[] = [];
    for (const p of this.packages) {
      for (const [i, advisory] of p.advisories.entries()) {
        const cve = /\b(CVE-\d{4}-\d{4,})\b/i.exec(advisory)?.[1]?.toUpperCase() ?? /\b(GHSA(-[23456789cfghjmpqrvwx]{4}){3})\b/i.exec(advisory)?.[1] ?? null;
        const rule = cve ?? "spdx.security_advisory";
        const fp = fingerprintOf("spdx", p.assetId, advisory);
        if (findings.some((f) => f.fingerprint === fp)) continue;
        findings.push({
          fingerprint: fp,
          rule,
          severity: "medium",
          title: `${rule} advisory for ${p.name}${p.version ? `@${p.version}` : ""}`,
          asset: p.assetId,
          where: `${p.pointer}/externalRefs`,
          details: { format: "spdx", advisory, package: p.name, version: p.version, advisory_index: i, severity_note: "SPDX advisory references carry no rating" },
        });
      }
    }
    return {
      assets: [...assets.values()],
      relations: [...relations.values()],
      findings,
      counts: { packages: this.packageEntries, files: this.fileEntries, relationships: this.relationshipEntries, document_describes: this.documentDescribes.length, relationships_skipped: skipped },
      tools: this.creators.filter((c) => c.startsWith("Tool:")).map((c) => c.slice(5).trim()),
    };
  }
}
