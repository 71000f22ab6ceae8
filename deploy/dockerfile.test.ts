// Reads the Dockerfile the way the builder does and checks the image's contract: stages, user, entry point, probes,
// and that every file the image copies actually exists (in the repository or as output of the build stage).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it, expect } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line where the instruction starts, for readable failures. */
  line: number;
}

interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

/** Joins `\` continuations, drops comment lines (also inside continuations, as the builder does) and blank lines. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || (trimmed === "" && !pending)) return;
    if (trimmed === "") return; // blank line inside a continuation
    const continues = /\\\s*$/.test(raw);
    const part = continues ? raw.replace(/\\\s*$/, "") : raw;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(part.trim());
    if (!continues) {
      const joined = pending.parts.filter(Boolean).join(" ");
      const match = /^(\S+)\s*(.*)$/s.exec(joined);
      if (match) out.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: pending.line });
      pending = undefined;
    }
  });
  if (pending) throw new Error(`Dockerfile ends inside a line continuation started on line ${pending.line}`);
  return out;
}

function splitStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      const asIndex = words.findIndex((w) => w.toUpperCase() === "AS");
      stages.push({ base: words[0], name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    } else if (ins.keyword !== "ARG") {
      throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return stages;
}

/** Exec form (`["a", "b"]`) is JSON; shell form is returned as one string for the shell. */
function execForm(args: string): string[] | string {
  return args.startsWith("[") ? (JSON.parse(args) as string[]) : args;
}

function parseCopy(ins: Instruction): Copy {
  let rest = ins.args;
  let from: string | undefined;
  for (let flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest)) {
    if (flag[1] === "from") from = flag[2];
    rest = rest.slice(flag[0].length);
  }
  const parts = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  if (parts.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  return { from, sources: parts.slice(0, -1), dest: parts[parts.length - 1], line: ins.line };
}

function parseEnvArgs(args: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)) {
    vars[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  return vars;
}

/** The stage's working directory in effect at each instruction (WORKDIR may be relative to the previous one). */
function workdirAt(stage: Stage, ins: Instruction): string {
  let dir = "/";
  for (const i of stage.instructions) {
    if (i === ins) break;
    if (i.keyword === "WORKDIR") dir = path.posix.resolve(dir, i.args);
  }
  return dir;
}

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => of(stage, "RUN").map((i) => i.args);
const normalise = (p: string) => path.posix.normalize(p).replace(/^\.\//, "").replace(/\/$/, "") || ".";

/** Directories `npm run build` writes (remix.config.js: serverBuildPath build/index.js, assetsBuildDirectory public/build). */
const BUILD_OUTPUTS = ["build", "public/build"];
const isBuildOutput = (rel: string) => BUILD_OUTPUTS.some((out) => rel === out || out.startsWith(`${rel}/`) || rel.startsWith(`${out}/`));

/** Plain (wildcard-free) .dockerignore entries: a COPY from the context must not name anything under them. */
function ignoredPrefixes(): string[] {
  const file = path.join(repoRoot, ".dockerignore");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("!") && !/[*?[]/.test(l))
    .map(normalise);
}

const dockerfileText = fs.readFileSync(path.join(repoRoot, "Dockerfile"), "utf8");
const stages = splitStages(parseDockerfile(dockerfileText));
const finalStage = stages[stages.length - 1];
const stageNamed = (name: string) => stages.find((s) => s.name === name) ?? stages[Number(name)];

describe("the Dockerfile line parser", () => {
  it("joins continuations, skips comments (also inside a continuation) and keeps line numbers", () => {
    const parsed = parseDockerfile(
      ["# heading", "FROM node:22-slim AS one", "", "RUN a \\", "  # explained", "  && b \\", "  && c", "cmd [\"web\"]"].join("\n"),
    );
    expect(parsed).toEqual([
      { keyword: "FROM", args: "node:22-slim AS one", line: 2 },
      { keyword: "RUN", args: "a && b && c", line: 4 },
      { keyword: "CMD", args: '["web"]', line: 8 },
    ]);
  });

  it("rejects a file that ends inside a continuation", () => {
    expect(() => parseDockerfile("FROM node:22-slim\nRUN a \\\n")).toThrow(/continuation/);
  });

  it("reads COPY flags, JSON form and ENV pairs", () => {
    expect(parseCopy({ keyword: "COPY", args: "--from=build --chown=1:1 /app/build/ ./build/", line: 1 })).toEqual({
      from: "build",
      sources: ["/app/build/"],
      dest: "./build/",
      line: 1,
    });
    expect(parseCopy({ keyword: "COPY", args: '["a b", "c", "/d/"]', line: 2 }).sources).toEqual(["a b", "c"]);
    expect(parseEnvArgs('NODE_ENV=production  PORT=3000 NAME="x y"')).toEqual({ NODE_ENV: "production", PORT: "3000", NAME: "x y" });
  });
});

describe("Dockerfile", () => {
  const finalEnv = Object.assign({}, ...of(finalStage, "ENV").map((i) => parseEnvArgs(i.args))) as Record<string, string>;

  it("builds in at least two stages and ships the last one on Node 22 slim", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(finalStage.base).toMatch(/^node:22(\.\d+){0,2}-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it("compiles the UI in a build stage with npm install (the lockfile cannot satisfy npm ci) and npm run build", () => {
    const builders = stages.slice(0, -1).filter((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    expect(builders.length).toBeGreaterThan(0);
    for (const s of builders) expect(runs(s).some((r) => /\bnpm (install|i)\b/.test(r))).toBe(true);
    expect(dockerfileText.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n")).not.toMatch(/\bnpm ci\b/);
  });

  it("installs production dependencies only in the final stage", () => {
    expect(runs(finalStage).some((r) => /\bnpm (install|i)\b[^&;]*--omit=dev/.test(r))).toBe(true);
    expect(runs(finalStage).some((r) => /\bnpm run build\b/.test(r))).toBe(false);
  });

  it("runs as a user that is not root, created in the image", () => {
    const users = of(finalStage, "USER");
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].args.split(":")[0];
    expect(["root", "0"]).not.toContain(user);
    if (!/^\d+$/.test(user)) expect(runs(finalStage).some((r) => new RegExp(`useradd\\b.*\\b${user}\\b`).test(r))).toBe(true);
  });

  it("gives that user a writable data directory and sets the production environment", () => {
    expect(finalEnv).toMatchObject({ NODE_ENV: "production", HOST: "0.0.0.0" });
    const dataDir = finalEnv.CAIRN_DATA_DIR;
    expect(dataDir).toMatch(/^\//);
    const user = of(finalStage, "USER").at(-1)!.args.split(":")[0];
    const setup = runs(finalStage).join("\n");
    expect(setup).toContain(`mkdir -p ${dataDir}`);
    expect(setup).toMatch(new RegExp(`chown (-R )?${user}(:\\S+)? ${dataDir}(\\s|$)`));
  });

  it("starts bin/cairn.js (the package's cairn binary) with `web` as the default command", () => {
    const entrypoints = of(finalStage, "ENTRYPOINT");
    expect(entrypoints).toHaveLength(1);
    const entry = execForm(entrypoints[0].args);
    expect(Array.isArray(entry)).toBe(true); // exec form, so SIGTERM reaches node and not a shell
    const script = (entry as string[]).find((a) => a.endsWith("bin/cairn.js"));
    expect(script).toBeDefined();

    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { bin?: Record<string, string> };
    expect(pkg.bin?.cairn).toBe("bin/cairn.js");
    expect(fs.existsSync(path.join(repoRoot, "bin", "cairn.js"))).toBe(true);

    // Follow the script's path inside the image back through the COPY lines to the repository file it came from.
    const target = path.posix.resolve(workdirAt(finalStage, entrypoints[0]), script!);
    const origins = of(finalStage, "COPY")
      .map((ins) => ({ copy: parseCopy(ins), dir: workdirAt(finalStage, ins) }))
      .filter(({ copy }) => !copy.from)
      .flatMap(({ copy, dir }) =>
        copy.sources.flatMap((src) => {
          const rel = normalise(src);
          const dest = path.posix.resolve(dir, copy.dest);
          const stat = fs.statSync(path.join(repoRoot, rel), { throwIfNoEntry: false });
          if (!stat) return []; // reported by the build-context test below
          if (stat.isDirectory()) {
            // A directory's contents land in the destination.
            const inside = path.posix.relative(dest, target);
            return inside && !inside.startsWith("..") ? [normalise(path.posix.join(rel, inside))] : [];
          }
          const landed = copy.dest.endsWith("/") ? path.posix.join(dest, path.posix.basename(rel)) : dest;
          return landed === target ? [rel] : [];
        }),
      );
    expect(origins.at(-1)).toBe("bin/cairn.js");

    const cmds = of(finalStage, "CMD");
    expect(cmds).toHaveLength(1);
    expect(execForm(cmds[0].args)).toEqual(["web"]);
  });

  it("exposes the port the server listens on and probes /healthz with node", () => {
    const exposed = of(finalStage, "EXPOSE").flatMap((i) => i.args.split(/\s+/).map((p) => p.replace(/\/tcp$/, "")));
    expect(exposed).toContain(finalEnv.PORT);
    const checks = of(finalStage, "HEALTHCHECK");
    expect(checks).toHaveLength(1);
    const check = checks[0].args;
    expect(check).not.toMatch(/^NONE\b/i);
    expect(check).toMatch(/\bCMD\b/);
    expect(check).toContain("/healthz");
    expect(check).toMatch(/\bnode\b/);
    expect(check).not.toMatch(/\b(curl|wget)\b/); // neither exists in the slim image
  });

  it("copies from the build context only paths that exist in the repository and are not in .dockerignore", () => {
    const ignored = ignoredPrefixes();
    const contextCopies = stages.flatMap((s) => of(s, "COPY").map(parseCopy)).filter((c) => !c.from);
    expect(contextCopies.length).toBeGreaterThan(0);
    for (const copy of contextCopies) {
      for (const src of copy.sources) {
        const rel = normalise(src);
        expect(path.isAbsolute(src), `line ${copy.line}: ${src} must be relative to the build context`).toBe(false);
        expect(rel.startsWith(".."), `line ${copy.line}: ${src} leaves the build context`).toBe(false);
        expect(fs.existsSync(path.join(repoRoot, rel)), `line ${copy.line}: ${src} does not exist in the repository`).toBe(true);
        if (rel !== ".") {
          const hit = ignored.find((p) => rel === p || rel.startsWith(`${p}/`));
          expect(hit, `line ${copy.line}: ${src} is excluded by .dockerignore (${hit})`).toBeUndefined();
        }
      }
    }
  });

  it("copies from earlier stages only what they build or were given from the repository", () => {
    const stageCopies = stages.flatMap((s, index) =>
      of(s, "COPY")
        .map(parseCopy)
        .filter((c) => c.from)
        .map((c) => ({ copy: c, index })),
    );
    expect(stageCopies.length).toBeGreaterThan(0);
    for (const { copy, index } of stageCopies) {
      const source = stageNamed(copy.from!);
      expect(source, `line ${copy.line}: no stage called ${copy.from}`).toBeDefined();
      expect(stages.indexOf(source!), `line ${copy.line}: ${copy.from} must be an earlier stage`).toBeLessThan(index);
      const workdir = source!.instructions.filter((i) => i.keyword === "WORKDIR").reduce((dir, i) => path.posix.resolve(dir, i.args), "/");
      const builds = runs(source!).some((r) => /\bnpm run build\b/.test(r));
      const fromContext = of(source!, "COPY")
        .map(parseCopy)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources.map(normalise));
      for (const src of copy.sources) {
        // Sources of COPY --from are paths in that stage's file system, relative to its root.
        const rel = path.posix.relative(workdir, path.posix.resolve("/", src));
        expect(rel.startsWith(".."), `line ${copy.line}: ${src} is outside ${copy.from}'s working directory ${workdir}`).toBe(false);
        if (isBuildOutput(rel)) {
          expect(builds, `line ${copy.line}: ${src} is build output, but stage ${copy.from} never runs npm run build`).toBe(true);
        } else {
          expect(fs.existsSync(path.join(repoRoot, rel)), `line ${copy.line}: ${src} is neither build output nor in the repository`).toBe(true);
          expect(fromContext.some((c) => c === "." || rel === c || rel.startsWith(`${c}/`)), `line ${copy.line}: ${src} never reaches stage ${copy.from}`).toBe(true);
        }
      }
    }
  });
});
