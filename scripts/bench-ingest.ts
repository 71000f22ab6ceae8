// npm run bench:ingest — push ingest at 100,000 entries: a CycloneDX document with 100,000 components (about 50 MB,
// with dependencies and 1,000 vulnerabilities) and a SARIF document with 100,000 results. For each document:
//   floor     JSON.parse of the whole file (read into one string first), in a child process
//   stream    the streamed reader alone (readDocument: tokenize, compact, map to the graph), in a child process
//   pipeline  the real thing: POST /v1/results/push over HTTP to the web app, the ingest.process job on a worker,
//             materializeGraph into PostgreSQL; time to the 202 receipt and to `done`, in this process
// Peak RSS is the process's maximum resident set (process.resourceUsage().maxRSS); the pipeline row's includes the
// web app, the worker and the database pool of this process (PostgreSQL itself is a separate process).
//
//   node --import tsx scripts/bench-ingest.ts [--components 100000] [--results 100000] [--rounds 3]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { components: { type: "string", default: "100000" }, results: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" }, child: { type: "string" } },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const self = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------------------------ children

if (opts.child) {
  const file = positionals[0]!;
  // Modules load before the clock starts: the rows compare parsing, not start-up.
  const { readDocument } = await import("../server/ingest/document-reader.ts");
  const t0 = performance.now();
  if (opts.child === "floor") {
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown[]>;
    const n = (doc.components ?? (doc.runs as { results: unknown[] }[])[0]!.results).length;
    process.stdout.write(JSON.stringify({ ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS, entries: n }));
  } else {
    const doc = await readDocument(fs.createReadStream(file, { highWaterMark: 256 * 1024 }), { fileBase: "source/bench" });
    process.stdout.write(JSON.stringify({ ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS, entries: doc.counts.results ?? doc.counts.components, findings: doc.counts.findings }));
  }
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------------ documents

const COMPONENTS = Number(opts.components);
const RESULTS = Number(opts.results);
const ROUNDS = Number(opts.rounds);
const { startThrowawayPostgres, throwawayDir } = await import("./throwaway-postgres.ts");
const dir = throwawayDir("bench-ingest");

function writeCycloneDx(file: string) {
  const fd = fs.openSync(file, "w");
  const w = (s: string) => fs.writeSync(fd, s);
  const ref = (i: number) => `pkg:npm/%40bench/pkg-${i}@${1 + (i % 7)}.${i % 13}.${i % 5}`;
  w(`{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,"metadata":{"component":{"bom-ref":"app","type":"application","name":"bench-app","version":"1.0.0"},"tools":{"components":[{"type":"application","name":"bench-generator","version":"1"}]}},"components":[`);
  for (let i = 0; i < COMPONENTS; i++) {
    const c = {
      type: "library",
      "bom-ref": ref(i),
      group: "@bench",
      name: `pkg-${i}`,
      version: `${1 + (i % 7)}.${i % 13}.${i % 5}`,
      purl: ref(i),
      licenses: [{ license: { id: i % 3 ? "MIT" : "Apache-2.0" } }],
      hashes: [{ alg: "SHA-256", content: "ab".repeat(32) }],
      externalReferences: [{ type: "distribution", url: `https://registry.npmjs.org/@bench/pkg-${i}/-/pkg-${i}.tgz` }],
      properties: [{ name: "cdx:npm:package:path", value: `node_modules/@bench/pkg-${i}` }],
    };
    w((i ? "," : "") + JSON.stringify(c));
  }
  w(`],"dependencies":[{"ref":"app","dependsOn":${JSON.stringify(Array.from({ length: 50 }, (_, i) => ref(i)))}}`);
  for (let i = 0; i < COMPONENTS; i++) w(`,{"ref":"${ref(i)}","dependsOn":["${ref((i * 7 + 1) % COMPONENTS)}","${ref((i * 13 + 5) % COMPONENTS)}"]}`);
  w(`],"vulnerabilities":[`);
  for (let v = 0; v < 1000; v++) {
    w((v ? "," : "") + JSON.stringify({ id: `CVE-2025-${10000 + v}`, source: { name: "NVD" }, ratings: [{ score: (v % 100) / 10, severity: ["low", "medium", "high", "critical"][v % 4], method: "CVSSv31" }], description: "A vulnerability of the benchmark.", affects: [{ ref: ref(v * 97 % COMPONENTS) }] }));
  }
  w("]}\n");
  fs.closeSync(fd);
}

function writeSarif(file: string) {
  const fd = fs.openSync(file, "w");
  const w = (s: string) => fs.writeSync(fd, s);
  const rules = Array.from({ length: 50 }, (_, r) => ({ id: `bench/rule-${r}`, name: `Rule${r}`, shortDescription: { text: `Benchmark rule ${r}` }, defaultConfiguration: { level: ["error", "warning", "note"][r % 3] } }));
  w(`{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"BenchLint","version":"1.0.0","rules":${JSON.stringify(rules)}}},"results":[`);
  for (let i = 0; i < RESULTS; i++) {
    const r = i % 50;
    const res = {
      ruleId: `bench/rule-${r}`,
      ruleIndex: r,
      level: ["error", "warning", "note"][r % 3],
      message: { text: `Finding ${i}: something the benchmark rule ${r} does not like in this file` },
      locations: [{ physicalLocation: { artifactLocation: { uri: `src/module-${i % 2000}/file-${i % 97}.ts` }, region: { startLine: 1 + (i % 400), startColumn: 1 + (i % 40) } } }],
      partialFingerprints: { primaryLocationLineHash: `${i.toString(16).padStart(16, "0")}:1` },
    };
    w((i ? "," : "") + JSON.stringify(res));
  }
  w("]}]}\n");
  fs.closeSync(fd);
}

const cdxFile = path.join(dir, "bench.cdx.json");
const sarifFile = path.join(dir, "bench.sarif.json");
log(`generating ${COMPONENTS} components and ${RESULTS} results…`);
writeCycloneDx(cdxFile);
writeSarif(sarifFile);
const docs = [
  { name: `CycloneDX, ${COMPONENTS.toLocaleString("en-US")} components`, file: cdxFile },
  { name: `SARIF, ${RESULTS.toLocaleString("en-US")} results`, file: sarifFile },
];

function child(mode: "floor" | "stream", file: string): { ms: number; maxRssKb: number } {
  const out = execFileSync(process.execPath, ["--import", "tsx", self, "--child", mode, file], { encoding: "utf8", maxBuffer: 1024 * 1024 });
  return JSON.parse(out) as { ms: number; maxRssKb: number };
}

// ------------------------------------------------------------------------------------------------------ pipeline

const { createDbClient } = await import("../db/client.ts");
const { runMigrations } = await import("../db/migrate.ts");
const { appRoleUrl, provisionAppRole } = await import("../db/app-role.ts");
const { parseEnv } = await import("../server/config/env.ts");
const { createLogger } = await import("../server/logger.ts");
const { createWebApp } = await import("../server/http/app.ts");
const { startWorker } = await import("../server/worker/worker.ts");
const { ingestProcessHandler } = await import("../server/ingest/process-push.ts");
const { bootstrapTenant } = await import("../server/domain/tenants/bootstrap.service.ts");
const { installDriverGuard } = await import("../server/driver-guard.ts");
await import("../server/connectors/index.ts");

const SECRET = "bench-ingest-installation-secret-0123456789";
const database = await startThrowawayPostgres(dir, path.join(dir, "db"));
const { pg } = database;
const owner = createDbClient(pg.url, { max: 2, applicationName: "bench-ingest-owner" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

try {
  await runMigrations(owner);
  await provisionAppRole(owner, SECRET);
  const db = createDbClient(appRoleUrl(pg.url, SECRET), { max: 10, applicationName: "bench-ingest-app" });
  const rt = {
    mode: "all" as const,
    env: parseEnv({ NODE_ENV: "production", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", CAIRN_SECRET: SECRET, CAIRN_DATA_DIR: path.join(dir, "data"), CAIRN_INGEST_MAX_BYTES: String(512 * 1024 * 1024) }),
    log: createLogger(process.env.LOG_LEVEL ?? "warn"),
    db,
    owner,
    secret: SECRET,
    databaseKind: "embedded" as const,
    startedAt: new Date(),
    draining: false,
  };
  installDriverGuard(rt.log);
  const { app } = await createWebApp(rt, { applicationName: "bench-ingest-web", withUi: false });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const worker = await startWorker(rt, { concurrency: 2, handlers: [ingestProcessHandler], pollMs: 200 });
  const boot = await bootstrapTenant(db, "bench", { highRisk: false });
  const auth = { authorization: `Bearer ${boot.api_key}` };

  const results: string[] = [];
  for (const doc of docs) {
    const bytes = fs.statSync(doc.file).size;
    const mb = bytes / 1024 / 1024;
    const floor: { ms: number; maxRssKb: number }[] = [];
    const stream: { ms: number; maxRssKb: number }[] = [];
    const accepted: number[] = [];
    const done: number[] = [];
    let findings = 0;
    for (let round = 0; round < ROUNDS; round++) {
      floor.push(child("floor", doc.file));
      stream.push(child("stream", doc.file));
      // A fresh source each round: the first push of a document creates every asset and finding.
      const created = await fetch(`${base}/v1/sources`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ kind: "ingest.result_push", display_name: `bench ${doc.name} ${round}` }) });
      const source = ((await created.json()) as { source_id: string }).source_id;
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/results/push?source_id=${source}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "idempotency-key": `bench-${round}`, "content-length": String(bytes) },
        body: fs.createReadStream(doc.file) as unknown as BodyInit,
        duplex: "half",
      } as RequestInit);
      const receipt = (await res.json()) as { receipt_id: string; status: string; error?: unknown };
      if (res.status !== 202) throw new Error(`push refused: ${res.status} ${JSON.stringify(receipt)}`);
      accepted.push(performance.now() - t0);
      for (;;) {
        const r = (await (await fetch(`${base}/v1/results/receipts/${receipt.receipt_id}`, { headers: auth })).json()) as { status: string; counts: Record<string, number>; error: unknown };
        if (r.status === "failed") throw new Error(`receipt failed: ${JSON.stringify(r.error)}`);
        if (r.status === "done") {
          findings = r.counts.findings ?? 0;
          break;
        }
        await new Promise((s) => setTimeout(s, 100));
      }
      done.push(performance.now() - t0);
      log(`${doc.name} round ${round + 1}: floor ${floor.at(-1)!.ms.toFixed(0)} ms, stream ${stream.at(-1)!.ms.toFixed(0)} ms, 202 after ${accepted.at(-1)!.toFixed(0)} ms, done after ${done.at(-1)!.toFixed(0)} ms`);
    }
    const fmt = (ms: number[]) => `${(median(ms) / 1000).toFixed(2)} s (${range(ms.map((x) => x / 1000), 2)})`;
    const rate = (ms: number[]) => `${(mb / (median(ms) / 1000)).toFixed(1)}`;
    const rss = (xs: { maxRssKb: number }[]) => `${(median(xs.map((x) => x.maxRssKb)) / 1024).toFixed(0)} MB`;
    results.push(`| ${doc.name} (${mb.toFixed(1)} MB) | JSON.parse (floor) | ${fmt(floor.map((x) => x.ms))} | ${rate(floor.map((x) => x.ms))} | ${rss(floor)} |`);
    results.push(`| | streamed reader alone | ${fmt(stream.map((x) => x.ms))} | ${rate(stream.map((x) => x.ms))} | ${rss(stream)} |`);
    results.push(`| | push → 202 receipt | ${fmt(accepted)} | ${rate(accepted)} | |`);
    results.push(`| | push → receipt \`done\` (${findings.toLocaleString("en-US")} findings) | ${fmt(done)} | ${rate(done)} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (web + worker process, cumulative) |`);
  }
  await worker.stop();
  await new Promise<void>((r) => server.close(() => r()));
  await db.close();
  process.stdout.write(`\n| document | measured | time, median (min–max) of ${ROUNDS} | MB/s | peak RSS |\n|---|---|---|---|---|\n${results.join("\n")}\n`);
  process.stdout.write(`\ncpus: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}; node ${process.version}; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
} finally {
  await owner.close();
  await database.stop();
}
