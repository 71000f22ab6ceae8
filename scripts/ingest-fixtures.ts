// Regenerates the push-ingest fixtures that real tools produce (npm run fixtures:ingest):
//   generated/eslint.sarif.json   ESLint 9 with @microsoft/eslint-formatter-sarif over a small real project: the
//                                 JavaScript of three small npm packages this repository depends on (bytes, cookie,
//                                 depd), linted with eslint:recommended plus a few style rules so real code gives
//                                 real results
//   generated/npm-sbom.cdx.json   `npm sbom --sbom-format cyclonedx` of this repository's production dependencies
//   generated/npm-sbom.spdx.json  `npm sbom --sbom-format spdx` of the same
// The only edit to a tool's output: ESLint's SARIF names files by absolute file:// URI, so the temporary project
// directory is replaced by the %SRCROOT% base (as SARIF uploaders do), keeping the fixture free of machine paths.
// Tests read facts from the documents themselves, so regenerated fixtures need no test changes.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ESLint } from "eslint";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "server", "ingest", "fixtures", "generated");
fs.mkdirSync(out, { recursive: true });

async function eslintSarif() {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-eslint-fixture-"));
  try {
    for (const pkg of ["bytes", "cookie", "depd"]) {
      const dir = path.join(project, "src", pkg);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(root, "node_modules", pkg, "index.js"), path.join(dir, "index.js"));
    }
    const eslint = new ESLint({
      cwd: project,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ["**/*.js"],
          languageOptions: { ecmaVersion: 2022, sourceType: "commonjs", globals: { require: "readonly", module: "writable", exports: "writable", process: "readonly", Buffer: "readonly", __dirname: "readonly", console: "readonly" } },
          rules: {
            "no-unused-vars": "error",
            "no-undef": "error",
            eqeqeq: "error",
            "no-var": "warn",
            "prefer-const": "warn",
            "no-param-reassign": "warn",
            curly: "warn",
          },
        },
      ],
    });
    const results = await eslint.lintFiles(["src/**/*.js"]);
    // The formatter is a plain function (results, {cwd, rulesMeta}) → SARIF text; loaded from this repository's
    // dependencies because ESLint would look for it next to the temporary project.
    const formatSarif = createRequire(import.meta.url)("@microsoft/eslint-formatter-sarif") as (r: ESLint.LintResult[], data: unknown) => string;
    const text = formatSarif(results, { cwd: project, rulesMeta: eslint.getRulesMetaForResults(results) });
    const base = pathToFileURL(project).href.replace(/\/?$/, "/");
    const sarif = JSON.parse(text) as { runs: Record<string, unknown>[] };
    // Every artifactLocation (results, artifacts, notifications) becomes relative to %SRCROOT%.
    const relativize = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(relativize);
      else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (typeof o.uri === "string" && o.uri.startsWith(base)) {
          o.uri = o.uri.slice(base.length);
          o.uriBaseId = "%SRCROOT%";
        }
        Object.values(o).forEach(relativize);
      }
    };
    relativize(sarif);
    for (const run of sarif.runs) run.originalUriBaseIds = { "%SRCROOT%": { description: { text: "The linted project's root" } } };
    const written = JSON.stringify(sarif, null, 2);
    if (written.includes(project)) throw new Error("the SARIF still names the temporary directory");
    fs.writeFileSync(path.join(out, "eslint.sarif.json"), written + "\n");
    const count = results.reduce((n, r) => n + r.messages.length, 0);
    console.log(`eslint.sarif.json: ${results.length} files, ${count} results`);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

function npmSbom(format: "cyclonedx" | "spdx", file: string) {
  const text = execFileSync("npm", ["sbom", "--sbom-format", format, "--omit", "dev", "--package-lock-only"], { cwd: root, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  JSON.parse(text);
  fs.writeFileSync(path.join(out, file), text.endsWith("\n") ? text : text + "\n");
  console.log(`${file}: ${text.length} bytes`);
}

await eslintSarif();
npmSbom("cyclonedx", "npm-sbom.cdx.json");
npmSbom("spdx", "npm-sbom.spdx.json");
