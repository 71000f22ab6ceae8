// Manifest and lockfile parsing on real files: lockfiles written by npm (v1, v2, v3), a Cargo.lock and a poetry.lock
// from public projects, gin's go.mod, a `pip freeze`, and this project's own package-lock.json; plus the syntax
// corners of each format that real files use.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { manifestKindOf, parseManifest, purlOf, ManifestParseError, type ParsedManifest } from "./index.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const read = (rel: string) => fs.readFileSync(path.join(FIXTURES, rel), "utf8");
const purls = (m: ParsedManifest) => m.packages.map((p) => purlOf(p.ecosystem, p.name, p.version)).sort();

describe("npm", () => {
  const expected = ["pkg:npm/%40sindresorhus/is@4.6.0", "pkg:npm/debug@2.6.9", "pkg:npm/is-number@7.0.0", "pkg:npm/left-pad@1.3.0", "pkg:npm/ms@2.0.0", "pkg:npm/ms@2.1.3"];

  it.each([1, 2, 3])("package-lock.json v%i: every installed package, the nested one, dev flags and dependency edges", (v) => {
    const m = parseManifest("package-lock.json", read(`npm-lockfile-v${v}/package-lock.json`), "package-lock.json");
    expect(m.format).toBe(`lockfileVersion ${v}`);
    expect(purls(m)).toEqual(expected);
    const byKey = new Map(m.packages.map((p) => [p.key, p]));
    // debug@2 needs ms@2.0.0, installed under debug's own node_modules; the top-level ms is 2.1.3.
    expect(byKey.get("node_modules/debug")!.dependsOn).toEqual(["node_modules/debug/node_modules/ms"]);
    expect(byKey.get("node_modules/debug/node_modules/ms")!.version).toBe("2.0.0");
    expect(byKey.get("node_modules/debug/node_modules/ms")!.direct).toBe(false);
    expect(byKey.get("node_modules/is-number")!.dev).toBe(true);
    expect(byKey.get("node_modules/left-pad")!.direct).toBe(true);
    expect(m.warnings).toEqual([]);
  });

  it("this project's own package-lock.json: one package per installed folder, links skipped", () => {
    const text = fs.readFileSync(path.resolve(import.meta.dirname, "../../../../package-lock.json"), "utf8");
    const raw = JSON.parse(text) as { packages: Record<string, { link?: boolean }> };
    const installed = Object.entries(raw.packages).filter(([k, v]) => k.includes("node_modules/") && !v.link);
    const m = parseManifest("package-lock.json", text, "package-lock.json");
    expect(m.packages).toHaveLength(installed.length);
    expect(m.packages.find((p) => p.name === "drizzle-orm")).toMatchObject({ direct: true, ecosystem: "npm" });
    expect(m.packages.find((p) => p.name === "vitest")).toMatchObject({ direct: true, dev: true });
  });

  it("package.json: ranges stay ranges; aliases, git and local specs name their source", () => {
    const m = parseManifest(
      "package.json",
      JSON.stringify({
        name: "app",
        version: "2.0.0",
        dependencies: { lodash: "^4.17.21", alias: "npm:real-name@1.2.3", fromgit: "git+https://user:tok3n@example.com/x.git#v1", local: "file:../local" },
        devDependencies: { vitest: "^4.0.0" },
      }),
      "package.json",
    );
    expect(m.project).toEqual({ name: "app", version: "2.0.0" });
    const by = new Map(m.packages.map((p) => [p.key, p]));
    expect(by.get("lodash")).toMatchObject({ name: "lodash", version: null, requested: "^4.17.21", direct: true });
    expect(by.get("alias")!.name).toBe("real-name");
    expect(by.get("fromgit")!.source).toEqual({ type: "git", location: "git+https://example.com/x.git#v1" });
    expect(by.get("local")!.source).toEqual({ type: "path", location: "file:../local" });
    expect(by.get("vitest")!.dev).toBe(true);
  });

  it("broken JSON is a parse error with line and column", () => {
    try {
      parseManifest("package-lock.json", '{\n  "lockfileVersion": 3,\n  "packages": {\n', "package-lock.json");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestParseError);
      expect((err as ManifestParseError).line).toBe(4);
    }
  });
});

describe("Python", () => {
  it("pip freeze output: 101 pinned requirements", () => {
    const m = parseManifest("requirements.txt", read("python-requirements/requirements.txt"), "requirements.txt");
    expect(m.packages).toHaveLength(101);
    expect(m.packages.every((p) => p.version !== null && p.direct)).toBe(true);
    expect(purls(m)).toContain("pkg:pypi/jinja2@3.1.6");
  });

  it("requirements syntax: continuations, hashes, extras, markers, URLs, includes and editables", () => {
    const text = [
      "# pinned with hashes, as pip-compile writes them",
      "requests[socks]==2.32.3 \\",
      "    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6 \\",
      "    --hash=sha256:55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760",
      "    # via -r requirements.in",
      "Django>=4.2,<5 ; python_version >= '3.10'",
      "numpy",
      "private-lib @ git+https://deploy:hunter22secret@git.example.com/lib.git@v1.4",
      "-r requirements-base.txt",
      "--index-url https://pypi.org/simple",
      "-e ./local-package",
      "./vendor/some.whl",
      "zope.interface===6.0",
    ].join("\n");
    const m = parseManifest("requirements.txt", text, "requirements.txt");
    const by = new Map(m.packages.map((p) => [p.key, p]));
    expect([...by.keys()]).toEqual(["requests", "django", "numpy", "private-lib", "zope-interface"]);
    expect(by.get("requests")).toMatchObject({ version: "2.32.3", requested: "==2.32.3" });
    expect(by.get("django")).toMatchObject({ version: null, requested: ">=4.2,<5" });
    expect(by.get("numpy")!.version).toBeNull();
    expect(by.get("private-lib")!.source).toEqual({ type: "git", location: "git+https://git.example.com/lib.git@v1.4" });
    expect(by.get("zope-interface")!.version).toBe("6.0");
    expect(m.format).toBe("includes requirements-base.txt");
    expect(m.warnings.map((w) => w.where)).toEqual(["requirements.txt:11", "requirements.txt:12"]);
    expect(purlOf("pypi", "zope.interface", "6.0")).toBe("pkg:pypi/zope-interface@6.0");
  });

  it("poetry.lock: locked versions, the git package's source, dependency edges to locked packages only", () => {
    const m = parseManifest("poetry.lock", read("python-poetry/poetry.lock"), "poetry.lock");
    expect(m.format).toBe("lock-version 2.0");
    expect(m.packages).toHaveLength(13);
    const by = new Map(m.packages.map((p) => [p.key, p]));
    expect(by.get("toml")!.source).toEqual({ type: "git", location: "https://github.com/uiri/toml.git@5706d3155f4da8f3b84875f80bfe0dfc6565f61f" });
    // pytest names atomicwrites, attrs and more-itertools, which this lock does not contain.
    expect(by.get("pytest")!.dependsOn).toEqual(["colorama", "pluggy", "py", "setuptools", "six"]);
    expect(by.get("importlib-metadata")!.dependsOn).toEqual(["typing-extensions", "zipp"]);
  });

  it("broken TOML is a parse error with its line", () => {
    expect(() => parseManifest("poetry.lock", '[[package]]\nname = "x"\nversion = \n', "poetry.lock")).toThrow(ManifestParseError);
  });
});

describe("Go and Rust", () => {
  it("go.mod: 12 direct and 17 indirect requirements, module and go version", () => {
    const m = parseManifest("go.mod", read("go-module/go.mod"), "go.mod");
    expect(m.project?.name).toBe("github.com/gin-gonic/gin");
    expect(m.format).toBe("go 1.20");
    expect(m.packages.filter((p) => p.direct)).toHaveLength(12);
    expect(m.packages.filter((p) => !p.direct)).toHaveLength(17);
    expect(purls(m)).toContain("pkg:golang/github.com/go-playground/validator/v10@v10.19.0");
  });

  it("go.mod replace directives: a module swapped for a fork, and one for a local folder", () => {
    const text = ["module example.com/app", "", "go 1.22", "", "require (", "\tgithub.com/a/lib v1.0.0", "\tgithub.com/b/other v0.3.0 // indirect", ")", "", "require github.com/c/single v2.1.0+incompatible", "", "replace github.com/a/lib => github.com/fork/lib v1.0.1", "replace github.com/b/other v0.3.0 => ../other"].join("\n");
    const m = parseManifest("go.mod", text, "go.mod");
    const by = new Map(m.packages.map((p) => [p.key, p]));
    expect(by.get("github.com/a/lib")).toMatchObject({ name: "github.com/fork/lib", version: "v1.0.1", direct: true });
    expect(by.get("github.com/b/other")).toMatchObject({ version: null, direct: false, source: { type: "path", location: "../other" } });
    expect(by.get("github.com/c/single")!.version).toBe("v2.1.0+incompatible");
  });

  it("Cargo.lock: registry crates only (workspace crates are the project), direct ones from the workspace's dependencies", () => {
    const m = parseManifest("Cargo.lock", read("rust-cargo/Cargo.lock"), "Cargo.lock");
    expect(m.format).toBe("Cargo.lock version 3");
    expect(m.packages).toHaveLength(22);
    expect(m.packages.filter((p) => p.direct).map((p) => p.name).sort()).toEqual(["anyhow", "colored", "itertools", "strum", "strum_macros"]);
    expect(m.packages.find((p) => p.name === "syn")!.dependsOn).toEqual(["proc-macro2 1.0.87", "quote 1.0.37", "unicode-ident 1.0.13"]);
  });

  it("Cargo.lock names a dependency with its version when two versions are locked", () => {
    const text = [
      "version = 4",
      "",
      "[[package]]",
      'name = "app"',
      'version = "0.1.0"',
      'dependencies = ["rand 0.8.5", "rand 0.9.0"]',
      "",
      "[[package]]",
      'name = "rand"',
      'version = "0.8.5"',
      'source = "registry+https://github.com/rust-lang/crates.io-index"',
      "",
      "[[package]]",
      'name = "rand"',
      'version = "0.9.0"',
      'source = "registry+https://github.com/rust-lang/crates.io-index"',
    ].join("\n");
    const m = parseManifest("Cargo.lock", text, "Cargo.lock");
    expect(purls(m)).toEqual(["pkg:cargo/rand@0.8.5", "pkg:cargo/rand@0.9.0"]);
    expect(m.packages.every((p) => p.direct)).toBe(true);
  });
});

describe("file names", () => {
  it("recognises manifests by name, requirements files by pattern", () => {
    expect(["package-lock.json", "package.json", "poetry.lock", "go.mod", "Cargo.lock"].map(manifestKindOf)).toEqual(["package-lock.json", "package.json", "poetry.lock", "go.mod", "Cargo.lock"]);
    expect(["requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements_test.txt"].map(manifestKindOf)).toEqual(Array(4).fill("requirements.txt"));
    expect(["package.jsonc", "notes.txt", "go.sum", "Cargo.toml"].map(manifestKindOf)).toEqual([null, null, null, null]);
  });
});
