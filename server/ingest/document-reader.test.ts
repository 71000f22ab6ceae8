// The streamed reader on real documents (third-party SARIF from six tools, CycloneDX 1.4–1.6, SPDX 2.3, and the
// outputs of ESLint and `npm sbom` generated here), its counts checked against the manifest and against the
// documents themselves; then hostile documents, each refused with a message and a JSON pointer.
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readDocument, DEFAULT_READER_LIMITS, type ReadResult } from "./document-reader.ts";
import { DocumentError } from "./json-stream.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures");
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, "third-party", "MANIFEST.json"), "utf8")) as {
  file: string;
  kind: "sarif" | "cyclonedx" | "spdx";
  facts: Record<string, unknown>;
}[];

const read = (file: string, opts: Partial<Parameters<typeof readDocument>[1]> = {}) => readDocument(fs.createReadStream(file, { highWaterMark: 4096 }), { fileBase: "source/test", ...opts });
const fromText = (text: string | Buffer, chunk = 65536, opts: Partial<Parameters<typeof readDocument>[1]> = {}) => {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return readDocument(Readable.from(parts), { fileBase: "source/test", ...opts });
};

async function rejection(p: Promise<unknown>): Promise<DocumentError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DocumentError) return err;
    throw err;
  }
  throw new Error("the document was accepted");
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("third-party documents, counted against MANIFEST.json", () => {
  it("covers every SARIF, CycloneDX and SPDX file of the corpus", () => {
    expect(manifest.filter((e) => e.kind === "sarif")).toHaveLength(6);
    expect(manifest.filter((e) => e.kind === "cyclonedx")).toHaveLength(5);
    expect(manifest.filter((e) => e.kind === "spdx")).toHaveLength(3);
  });

  for (const entry of manifest) {
    it(`${entry.file}`, async () => {
      const file = path.join(FIXTURES, "third-party", entry.file);
      const doc = await read(file);
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      const f = entry.facts;
      expect(doc.format).toBe(entry.kind);
      if (entry.kind === "sarif") {
        expect(doc.formatVersion).toBe(f.sarif_version);
        expect(doc.counts.runs).toBe(f.runs);
        expect(doc.counts.results).toBe(sum(f.results_per_run as number[]));
        expect(doc.counts.rules).toBe(sum((f.tools as { rules: number }[]).map((t) => t.rules)));
        // Every result of these documents is a distinct problem: one finding each.
        expect(doc.counts.findings).toBe(sum(f.results_per_run as number[]));
        expect(doc.tools).toEqual((f.tools as { name: string }[]).map((t) => t.name));
      } else if (entry.kind === "cyclonedx") {
        expect(doc.formatVersion).toBe(f.specVersion);
        expect(doc.counts.components).toBe(f.components_total);
        expect(doc.counts.services).toBe(f.services_total);
        expect(doc.counts.dependencies).toBe(f.dependencies);
        expect(doc.counts.vulnerabilities).toBe(f.vulnerabilities);
        // One finding per vulnerability and component it affects.
        const vulns = (raw.vulnerabilities ?? []) as { affects?: unknown[] }[];
        expect(doc.counts.findings).toBe(sum(vulns.map((v) => Math.max(1, v.affects?.length ?? 0))));
        const expectedAssets = (f.components_total as number) + (f.services_total as number) + (f.has_metadata_component ? 1 : 0);
        expect(doc.graph.assets).toHaveLength(expectedAssets);
      } else {
        expect(doc.formatVersion).toBe(f.spdxVersion);
        expect(doc.counts.packages).toBe(f.packages);
        expect(doc.counts.relationships).toBe(f.relationships);
        expect(doc.counts.files).toBe(f.files);
        expect(doc.counts.document_describes).toBe(f.documentDescribes);
        expect(doc.graph.assets.filter((a) => a.type === "package")).toHaveLength(f.packages as number);
        expect(doc.graph.assets.filter((a) => a.type === "file")).toHaveLength(f.files as number);
      }
      expect(doc.warnings).toEqual([]);
    });
  }

  it("maps SARIF results to findings with rule, severity, file:line and a file asset", async () => {
    const bandit = await read(path.join(FIXTURES, "third-party/sarif/bandit__ramirodhen__todo-list-aws.sarif.json"));
    expect(bandit.graph.findings[0]).toMatchObject({ rule: "B307", severity: "medium", where: "src/todoList.py:48", asset: "file:source/test/src/todoList.py" });
    expect(bandit.graph.assets).toEqual([expect.objectContaining({ id: "file:source/test/src/todoList.py", type: "file" })]);

    // Trivy's template writes the severity into the rule id; results have no locations.
    const trivy = await read(path.join(FIXTURES, "third-party/sarif/trivy__aquasecurity__trivy-sarif-demo.sarif.json"));
    const bySeverity = (doc: ReadResult) => Object.fromEntries(["critical", "high", "medium", "low", "info"].map((s) => [s, doc.graph.findings.filter((x) => x.severity === s).length]));
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES, "third-party/sarif/trivy__aquasecurity__trivy-sarif-demo.sarif.json"), "utf8")) as { runs: { results: { ruleId: string }[] }[] };
    const prefixes = raw.runs[0]!.results.map((r) => /^\[(\w+)\]/.exec(r.ruleId)![1]!.toLowerCase());
    expect(bySeverity(trivy)).toMatchObject({ critical: prefixes.filter((p) => p === "critical").length, high: prefixes.filter((p) => p === "high").length });
    expect(trivy.graph.findings.every((x) => x.asset === undefined)).toBe(true);
  });

  it("keeps a VEX not_affected statement visible at info severity, with the rating in details", async () => {
    const vex = await read(path.join(FIXTURES, "third-party/cyclonedx/CycloneDX__bom-examples__VEX-Use-Cases-Case-1-vex.cdx.json"));
    expect(vex.graph.findings).toEqual([
      expect.objectContaining({ rule: "CVE-2020-25649", severity: "info", asset: "component:application/Acme Product@2.4.0", details: expect.objectContaining({ rated_severity: "high", vex: { state: "not_affected", justification: "code_not_reachable" } }) }),
    ]);
    const v15 = await read(path.join(FIXTURES, "third-party/cyclonedx/CycloneDX__specification__valid-vulnerability-1.5.cdx.json"));
    expect(v15.graph.findings[0]).toMatchObject({ rule: "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111", severity: "info", asset: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4", details: { rated_severity: "critical" } });
    // Without the VEX statement the rating decides.
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES, "third-party/cyclonedx/CycloneDX__specification__valid-vulnerability-1.5.cdx.json"), "utf8")) as { vulnerabilities: Record<string, unknown>[] };
    delete raw.vulnerabilities[0]!.analysis;
    expect((await fromText(JSON.stringify(raw))).graph.findings[0]).toMatchObject({ severity: "critical" });
  });

  it("turns SPDX packages, files and relationships into assets and relations, and advisories into findings", async () => {
    const sec = await read(path.join(FIXTURES, "third-party/spdx/spdx__spdx-examples__04-SBOMwSecurity.spdx.json"));
    expect(sec.graph.assets.map((a) => a.id).sort()).toEqual(["pkg:github/spdx/tools-java@2235d5d7f7fe46ce1e0d54b7831c5681633b25cc", "pkg:maven/org.webjars.npm/xlsx@0.16.6"]);
    expect(sec.graph.relations).toEqual([{ type: "dynamic_link", from: "pkg:github/spdx/tools-java@2235d5d7f7fe46ce1e0d54b7831c5681633b25cc", to: "pkg:maven/org.webjars.npm/xlsx@0.16.6" }]);
    expect(sec.graph.findings).toEqual([expect.objectContaining({ rule: "CVE-2021-32012", asset: "pkg:maven/org.webjars.npm/xlsx@0.16.6" })]);
    const hello = await read(path.join(FIXTURES, "third-party/spdx/spdx__spdx-examples__example10-hello-source.spdx.json"));
    expect(hello.graph.relations.filter((r) => r.type === "contains")).toHaveLength(5);
  });
});

describe("documents produced by real tools here (scripts/ingest-fixtures.ts)", () => {
  it("ESLint's SARIF: one finding per distinct result, severity from the level, file:line where", async () => {
    const file = path.join(FIXTURES, "generated/eslint.sarif.json");
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { runs: { results: { ruleId: string; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    const results = raw.runs[0]!.results;
    expect(results.length).toBeGreaterThan(20);
    const distinct = new Set(results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri, r.locations[0]!.physicalLocation.region.startLine, r.message.text].join("|")));
    const doc = await read(file);
    expect(doc.tools).toEqual(["ESLint"]);
    expect(doc.counts.results).toBe(results.length);
    expect(doc.counts.findings).toBe(distinct.size);
    expect(doc.graph.findings.filter((f) => f.severity === "high")).toHaveLength(new Set(results.filter((r) => r.level === "error").map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri, r.locations[0]!.physicalLocation.region.startLine, r.message.text].join("|"))).size);
    const first = results[0]!;
    const loc = first.locations[0]!.physicalLocation;
    expect(doc.graph.findings).toContainEqual(expect.objectContaining({ rule: first.ruleId, where: `${loc.artifactLocation.uri}:${loc.region.startLine}`, asset: `file:source/test/${loc.artifactLocation.uri}` }));
    expect(new Set(doc.graph.assets.map((a) => a.id))).toEqual(new Set(results.map((r) => `file:source/test/${r.locations[0]!.physicalLocation.artifactLocation.uri}`)));
  });

  it("npm sbom's CycloneDX: every component a purl-keyed package, every dependsOn a relation", async () => {
    const file = path.join(FIXTURES, "generated/npm-sbom.cdx.json");
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { metadata: { component: { "bom-ref": string } }; components: { "bom-ref": string; purl: string }[]; dependencies: { ref: string; dependsOn?: string[] }[] };
    const doc = await read(file);
    expect(doc.counts.components).toBe(raw.components.length);
    expect(doc.counts.dependencies).toBe(raw.dependencies.length);
    const purls = new Set(raw.components.map((c) => c.purl));
    expect(doc.graph.assets.filter((a) => a.type === "package" && purls.has(a.id))).toHaveLength(purls.size);
    const refs = new Set([raw.metadata.component["bom-ref"], ...raw.components.map((c) => c["bom-ref"])]);
    const edges = new Set(raw.dependencies.flatMap((d) => (d.dependsOn ?? []).filter((t) => refs.has(t) && refs.has(d.ref) && t !== d.ref).map((t) => `${d.ref}>${t}`)));
    expect(doc.graph.relations.filter((r) => r.type === "depends_on")).toHaveLength(edges.size);
    expect(doc.graph.findings).toEqual([]);
  });

  it("npm sbom's SPDX: every package an asset, relationships between packages as relations", async () => {
    const file = path.join(FIXTURES, "generated/npm-sbom.spdx.json");
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { packages: unknown[]; relationships: { spdxElementId: string; relatedSpdxElement: string }[] };
    const doc = await read(file);
    expect(doc.format).toBe("spdx");
    expect(doc.counts.packages).toBe(raw.packages.length);
    expect(doc.counts.relationships).toBe(raw.relationships.length);
    expect(doc.graph.assets).toHaveLength(raw.packages.length);
    const between = raw.relationships.filter((r) => r.spdxElementId !== "SPDXRef-DOCUMENT" && r.relatedSpdxElement !== "SPDXRef-DOCUMENT");
    expect(doc.graph.relations.length).toBeGreaterThan(0);
    expect(doc.graph.relations.length).toBeLessThanOrEqual(between.length);
  });

  it("gives the same fingerprints whatever the chunking, and across readings", async () => {
    const text = fs.readFileSync(path.join(FIXTURES, "generated/eslint.sarif.json"));
    const whole = await fromText(text, text.length);
    const bytes = await fromText(text, 7);
    expect(bytes.graph.findings.map((f) => f.fingerprint)).toEqual(whole.graph.findings.map((f) => f.fingerprint));
    expect(bytes.counts).toEqual(whole.counts);
  });
});

describe("hostile documents are refused with what and where", () => {
  it("deep nesting, even inside members nobody reads", async () => {
    const deep = `{"runs":[{"results":[{"message":{"text":"x"},"properties":${"[".repeat(5000)}${"]".repeat(5000)}}]}],"version":"2.1.0"}`;
    const err = await rejection(fromText(deep));
    expect(err.kind).toBe("depth");
    expect(err.message).toContain(`deeper than ${DEFAULT_READER_LIMITS.maxDepth}`);
    expect(err.where).toMatch(/^\/runs\/0\/results\/0\/properties(\/0)+$/);
    const skipped = await rejection(fromText(`{"bomFormat":"CycloneDX","specVersion":"1.5","x":${"{\"a\":".repeat(1000)}1${"}".repeat(1000)}}`));
    expect(skipped.kind).toBe("depth");
    expect(skipped.where.startsWith("/x/a/a/a")).toBe(true);
  });

  it("huge arrays beyond the entry limit", async () => {
    const components = Array.from({ length: 150 }, (_, i) => `{"name":"c${i}","purl":"pkg:npm/c${i}@1.0.0"}`).join(",");
    const err = await rejection(fromText(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[${components}]}`, 1000, { limits: { ...DEFAULT_READER_LIMITS, maxEntries: 100 } }));
    expect(err).toMatchObject({ kind: "limit", where: "/components/100" });
    expect(err.message).toContain("more than 100 components");
  });

  it("one entry that is too large", async () => {
    const err = await rejection(fromText(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","properties":[${Array(3000).fill("1").join(",")}]}]}`, 1000, { limits: { ...DEFAULT_READER_LIMITS, maxNodesPerValue: 1000 } }));
    expect(err.kind).toBe("size");
    expect(err.where).toMatch(/^\/components\/0\/properties\/\d+$/);
  });

  it("wrong types: a collection that is not an array fails; an entry that is not an object is skipped with a warning", async () => {
    expect(await rejection(fromText(`{"version":"2.1.0","runs":"all of them"}`))).toMatchObject({ kind: "type", where: "/runs", message: "runs must be an array, not a string" });
    expect(await rejection(fromText(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":{"a":1}}`))).toMatchObject({ kind: "type", where: "/components" });
    const doc = await fromText(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[42,{"ruleId":"r1","message":{"text":"m"}},"x"]}]}`);
    expect(doc.counts).toMatchObject({ results: 3, findings: 1 });
    expect(doc.warnings).toEqual([
      { message: "result is not an object and was skipped", where: "/runs/0/results/0" },
      { message: "result is not an object and was skipped", where: "/runs/0/results/2" },
    ]);
    expect(await rejection(fromText(`[{"bomFormat":"CycloneDX"}]`))).toMatchObject({ kind: "type", where: "/" });
    expect(await rejection(fromText(`"just a string"`))).toMatchObject({ kind: "type", where: "/" });
  });

  it("truncated JSON, with the pointer of where it stopped", async () => {
    const text = fs.readFileSync(path.join(FIXTURES, "generated/npm-sbom.cdx.json"), "utf8");
    const err = await rejection(fromText(text.slice(0, Math.floor(text.length / 2))));
    expect(err.kind).toBe("syntax");
    expect(err.message).toMatch(/ends early|not valid JSON/);
    expect(err.where).toMatch(/^\/(components|dependencies)\/\d+/);
  });

  it("syntax errors name the member they happened in", async () => {
    // Located to the entry (and line) being read when the tokenizer stopped.
    const lines = Array.from({ length: 300 }, (_, i) => `{"ruleId":"r${i}","message":{"text":"m${i}"}}`);
    lines.splice(250, 0, `{"ruleId":"bad",}`);
    const err = await rejection(fromText(`{"version":"2.1.0","runs":[{"results":[\n${lines.join(",\n")}]}]}`));
    expect(err.kind).toBe("syntax");
    expect(err.where).toMatch(/^\/runs\/0\/results\/2[3-5]\d/);
    expect(err.message).toMatch(/line 2[3-5]\d\)$/);
    expect(await rejection(fromText(`{"version":"2.1.0","runs":[]} trailing`))).toMatchObject({ kind: "syntax" });
    expect(await rejection(fromText(``))).toMatchObject({ kind: "syntax", message: "the document is empty" });
    expect(await rejection(fromText(`{"version":"2.1.0","runs":[{"results":[{"ruleId":1e99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999}]}]}`))).toMatchObject({ kind: "syntax" });
  });

  it("bytes that are not UTF-8 text, and UTF-16", async () => {
    const bad = Buffer.concat([Buffer.from(`{"version":"2.1.0","runs":[{"results":[{"ruleId":"`), Buffer.from([0xc3, 0x28]), Buffer.from(`"}]}]}`)]);
    expect(await rejection(fromText(bad))).toMatchObject({ kind: "encoding" });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`{"version":"2.1.0","runs":[]}`, "utf16le")]);
    expect(await rejection(fromText(utf16))).toMatchObject({ kind: "encoding", where: "byte 0" });
    // A UTF-8 byte-order mark is fine.
    const bom = await fromText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"version":"2.1.0","runs":[]}`)]));
    expect(bom.format).toBe("sarif");
  });

  it("documents of no known format or version", async () => {
    const unknown = await rejection(fromText(`{"name":"x","items":[1,2,3]}`));
    expect(unknown).toMatchObject({ kind: "format", where: "/" });
    expect(unknown.message).toContain(`found "name", "items"`);
    expect(await rejection(fromText(`{"bomFormat":"CycloneDX","specVersion":"1.2","components":[]}`))).toMatchObject({ kind: "format", where: "/specVersion" });
    expect(await rejection(fromText(`{"bomFormat":"SPDX","specVersion":"1.5"}`))).toMatchObject({ kind: "format", where: "/bomFormat" });
    expect(await rejection(fromText(`{"version":"2.0.0","runs":[]}`))).toMatchObject({ kind: "format", where: "/version" });
    expect(await rejection(fromText(`{"spdxVersion":"SPDX-2.2","packages":[]}`))).toMatchObject({ kind: "format", where: "/spdxVersion" });
    expect(await rejection(fromText(`{"version":"2.1.0","runs":[]}`, 65536, { accept: ["cyclonedx"] }))).toMatchObject({ kind: "format", message: "this source accepts cyclonedx documents, not sarif" });
  });

  it("cuts very long strings instead of keeping them, and says so", async () => {
    const long = "A".repeat(200_000);
    const doc = await fromText(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"ruleId":"r","message":{"text":"${long}"}}]}]}`, 8192);
    expect((doc.graph.findings[0]!.details.message as string).length).toBeLessThanOrEqual(2000);
    expect(doc.warnings).toEqual([{ message: `1 string(s) longer than ${DEFAULT_READER_LIMITS.maxStringChars} characters were cut`, where: "/runs/0/results/0/message/text" }]);
  });

  it("a __proto__ member is data, never a prototype", async () => {
    const doc = await fromText(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"p","__proto__":{"polluted":true},"purl":"pkg:npm/p@1.0.0"}]}`);
    expect(doc.graph.assets[0]!.id).toBe("pkg:npm/p@1.0.0");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
