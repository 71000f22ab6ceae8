// `npm test`: build the UI, typecheck, lint, vitest (unit + real PostgreSQL), Playwright journeys in Chromium.
// Every step runs even when an earlier one fails; the last line is the total in the form "N passed, N failed".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const reports = path.join(root, "test-reports");
fs.rmSync(reports, { recursive: true, force: true });
fs.mkdirSync(reports, { recursive: true });

const steps = [
  { name: "build", cmd: process.execPath, args: [path.join(root, "scripts", "build-if-needed.js")] },
  { name: "typecheck", cmd: bin("tsc"), args: ["--noEmit"] },
  { name: "lint", cmd: bin("eslint"), args: ["--max-warnings=0", "."] },
  {
    name: "vitest",
    cmd: bin("vitest"),
    args: ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${path.join(reports, "vitest.json")}`],
    counts: () => {
      const r = JSON.parse(fs.readFileSync(path.join(reports, "vitest.json"), "utf8"));
      const failures = [];
      for (const file of r.testResults) {
        const rel = path.relative(root, file.name);
        for (const a of file.assertionResults) if (a.status === "failed") failures.push({ where: rel, title: a.fullName, message: a.failureMessages?.[0] });
        if (file.status === "failed" && !file.assertionResults.some((a) => a.status === "failed")) failures.push({ where: rel, title: "(the file failed outside its tests)", message: file.message });
      }
      return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, failures };
    },
  },
  {
    name: "playwright",
    cmd: bin("playwright"),
    args: ["test"],
    env: { PLAYWRIGHT_JSON_OUTPUT_FILE: path.join(reports, "playwright.json") },
    counts: () => {
      const r = JSON.parse(fs.readFileSync(path.join(reports, "playwright.json"), "utf8"));
      const failures = [];
      const walk = (suite) => {
        for (const spec of suite.specs ?? []) {
          if (spec.ok) continue;
          const last = spec.tests.flatMap((t) => t.results).at(-1);
          failures.push({ where: `${spec.file}:${spec.line}`, title: spec.title, message: last?.errors?.[0]?.message });
        }
        for (const child of suite.suites ?? []) walk(child);
      };
      for (const suite of r.suites) walk(suite);
      return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected, skipped: r.stats.skipped, failures };
    },
  },
];

const results = [];
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const step of steps) {
  const t0 = Date.now();
  process.stdout.write(`\n=== ${step.name} ===\n`);
  const res = spawnSync(step.cmd, step.args, { cwd: root, stdio: "inherit", env: { ...process.env, ...(step.env ?? {}) } });
  const ok = res.status === 0;
  let detail = "";
  if (step.counts) {
    try {
      const c = step.counts();
      passed += c.passed;
      failed += c.failed;
      skipped += c.skipped;
      for (const f of c.failures ?? []) failures.push({ step: step.name, ...f });
      detail = ` (${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""})`;
      if (!ok && c.failed === 0) failed += 1; // the runner failed outside any test (e.g. a suite that did not load)
    } catch {
      failed += 1;
      detail = " (no report: the runner did not finish)";
    }
  } else if (!ok) {
    failed += 1; // build, typecheck and lint count as one check each
  } else {
    passed += 1;
  }
  results.push({ name: step.name, ok, seconds: ((Date.now() - t0) / 1000).toFixed(1), detail });
}

// The failed tests are named again here, next to the total, so the end of a long log says which ones failed and why.
const firstLines = (text, n) => String(text ?? "").replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").split("\n")
    .filter((l) => l.trim() && !/node_modules|\(<anonymous>\)/.test(l))
    .slice(0, n);
if (failures.length > 0) {
  process.stdout.write("\n=== failed tests ===\n");
  for (const f of failures) {
    process.stdout.write(`${f.step}: ${f.where} › ${f.title}\n`);
    for (const line of firstLines(f.message, 8)) process.stdout.write(`    ${line}\n`);
  }
}

process.stdout.write("\n=== summary ===\n");
for (const r of results) process.stdout.write(`${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(10)} ${r.seconds.padStart(6)} s${r.detail}\n`);
process.stdout.write(`total: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
