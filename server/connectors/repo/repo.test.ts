// scan.repo on a real git repository the test builds: the lockfile fixtures in several folders, an MCP config,
// files with secret-like strings, and things that must be skipped (a binary, node_modules, a symlink out of the
// tree, an oversized file). Scanned in place by local path and cloned by file:// URL (at a branch and at a commit).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorInput, ConnectorOutput } from "../contract.ts";
import { collectRepo, validateRepoScope } from "./repo.connector.ts";
import { DEFAULT_REPO_LIMITS } from "./scan-tree.ts";
import { gitCredentialsFrom } from "./git.ts";
import type { RepoFinding } from "./repo-graph.ts";

const FIXTURES = path.resolve(import.meta.dirname, "fixtures");
const alnum = (n: number) => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(n), (b) => chars[b % chars.length]).join("");
};
const upper32 = (n: number) => Array.from(randomBytes(n), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32]).join("");

// Built at run time so this file holds no secret-shaped literal.
const SECRETS = {
  aws: `AK${"IA"}${upper32(16)}`,
  github: `gh${"p_"}${alnum(36)}`,
  gitlab: `gl${"pat-"}${alnum(20)}`,
  slack: `xo${"xb-"}${Date.now()}-${alnum(24)}`,
  dbPassword: `Pw${alnum(14)}7`,
  generic: `${alnum(22)}9q`,
  inBinary: `gh${"p_"}${alnum(36)}`,
  inNodeModules: `gh${"p_"}${alnum(36)}`,
  inLargeFile: `gh${"p_"}${alnum(36)}`,
};

let work: string;
let repo: string;
let outside: string;
let headCommit: string;
let firstCommit: string;

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, HOME: work, GIT_CONFIG_NOSYSTEM: "1" } as NodeJS.ProcessEnv }).trim();

function write(rel: string, content: string | Buffer) {
  const file = path.join(repo, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-repo-test-"));
  repo = path.join(work, "service");
  outside = path.join(work, "outside");
  fs.mkdirSync(repo);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "leak.env"), `TOKEN=${SECRETS.github}\n`);
  git(repo, "init", "--quiet", "--initial-branch=main");
  git(repo, "config", "user.email", "dev@example.com");
  git(repo, "config", "user.name", "Dev");
  git(repo, "config", "uploadpack.allowReachableSHA1InWant", "true");
  write("README.md", "# service\n");
  git(repo, "add", "-A");
  git(repo, "commit", "--quiet", "-m", "first");
  firstCommit = git(repo, "rev-parse", "HEAD");

  for (const v of [1, 2, 3]) fs.cpSync(path.join(FIXTURES, `npm-lockfile-v${v}`), path.join(repo, `apps/web-v${v}`), { recursive: true });
  fs.cpSync(path.join(FIXTURES, "rust-cargo"), path.join(repo, "crates"), { recursive: true });
  fs.cpSync(path.join(FIXTURES, "python-poetry"), path.join(repo, "tools/py"), { recursive: true });
  fs.cpSync(path.join(FIXTURES, "go-module"), path.join(repo, "gateway"), { recursive: true });
  fs.cpSync(path.join(FIXTURES, "python-requirements"), path.join(repo, "ml"), { recursive: true });
  write(
    ".cursor/mcp.json",
    JSON.stringify({ mcpServers: { files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/"] }, remote: { url: "http://mcp.example.com/sse" } } }, null, 2),
  );
  write(
    "config/settings.py",
    [
      "import os",
      "",
      `AWS_ACCESS_KEY_ID = "${SECRETS.aws}"`,
      `GITHUB_TOKEN = "${SECRETS.github}"`,
      'DATABASE_PASSWORD = os.environ["DB_PASSWORD"]',
      `DATABASE_URL = "postgres://app:${SECRETS.dbPassword}@db.internal:5432/app"`,
      "",
      `# the same token again further down`,
      `FALLBACK = "${SECRETS.github}"`,
    ].join("\n"),
  );
  write("deploy/ci.yml", `env:\n  GITLAB_TOKEN: ${SECRETS.gitlab}\n  SLACK: ${SECRETS.slack}\n  api_key: "${SECRETS.generic}"\n  password: "\${{ secrets.DB }}"\n`);
  write("deploy/id_rsa", `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW${alnum(12)}\n-----END OPENSSH PRIVATE KEY-----\n`);
  write("assets/logo.bin", Buffer.concat([Buffer.from([0, 1, 2, 3, 0, 0, 255, 254]), Buffer.from(SECRETS.inBinary), Buffer.alloc(64)]));
  write("node_modules/dep/config.js", `module.exports = "${SECRETS.inNodeModules}";\n`);
  write("data/huge.txt", `${"x".repeat(3 * 1024 * 1024)}\n${SECRETS.inLargeFile}\n`);
  fs.symlinkSync(outside, path.join(repo, "linked-outside"));
  git(repo, "add", "-A", "-f");
  git(repo, "commit", "--quiet", "-m", "service");
  headCommit = git(repo, "rev-parse", "HEAD");
  git(repo, "branch", "feature");
  git(repo, "checkout", "--quiet", "feature");
  write("feature.txt", `FEATURE_TOKEN=${SECRETS.gitlab}\n`);
  git(repo, "add", "feature.txt");
  git(repo, "commit", "--quiet", "-m", "feature");
  git(repo, "checkout", "--quiet", "main");
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function input(scope: Record<string, unknown>, extra: Partial<ConnectorInput> = {}): ConnectorInput & { lines: string[] } {
  const lines: string[] = [];
  return { scope, credentials: {}, signal: new AbortController().signal, log: (level, message) => lines.push(`${level}: ${message}`), lines, ...extra };
}

const findingsOf = (out: ConnectorOutput) => out.graph.findings as RepoFinding[];
const assetsOf = (out: ConnectorOutput) => out.graph.assets as { id: string; type: string; name: string; properties: Record<string, unknown> }[];
const relationsOf = (out: ConnectorOutput) => out.graph.relations as { type: string; from: string; to: string; properties?: Record<string, unknown> }[];
const cairnTemps = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("cairn-repo-") && !n.startsWith("cairn-repo-test-"));

function expectNoSecretValue(out: ConnectorOutput) {
  const text = JSON.stringify(out.graph) + JSON.stringify(out.summary) + JSON.stringify(out.warnings) + out.artifacts.map((a) => a.body.toString("utf8")).join("");
  for (const [name, value] of Object.entries(SECRETS)) expect(text.includes(value), `${name} leaked`).toBe(false);
}

describe("scan.repo on a local checkout", () => {
  let out: ConnectorOutput;
  const limits = { ...DEFAULT_REPO_LIMITS, maxFileBytes: 1024 * 1024 };
  beforeAll(async () => {
    out = await collectRepo(input({ paths: [repo] }), limits);
  });

  it("describes the repository at its HEAD commit", () => {
    const repoAsset = assetsOf(out).find((a) => a.type === "repository")!;
    expect(repoAsset.id).toBe(`repo:${fs.realpathSync(repo)}`);
    expect(repoAsset.properties).toMatchObject({ source: "path", commit: headCommit, branch: "main", manifests: 10 });
    expect(out.summary).toMatchObject({ source: "path", repositories: 1, manifests: 10, commits: [headCommit] });
  });

  it("inventories every manifest and lockfile as packages keyed by purl, with relations", () => {
    const assets = assetsOf(out);
    const relations = relationsOf(out);
    const ref = fs.realpathSync(repo);
    const files = assets.filter((a) => a.type === "file").map((a) => a.name).sort();
    expect(files).toEqual([
      "apps/web-v1/package-lock.json",
      "apps/web-v1/package.json",
      "apps/web-v2/package-lock.json",
      "apps/web-v2/package.json",
      "apps/web-v3/package-lock.json",
      "apps/web-v3/package.json",
      "crates/Cargo.lock",
      "gateway/go.mod",
      "ml/requirements.txt",
      "tools/py/poetry.lock",
    ]);
    const locked = (file: string) => relations.filter((r) => r.type === "locks" && r.from === `file:${ref}/${file}`).map((r) => r.to);
    expect(locked("apps/web-v1/package-lock.json").sort()).toEqual(locked("apps/web-v3/package-lock.json").sort());
    expect(locked("apps/web-v2/package-lock.json")).toHaveLength(6);
    expect(locked("crates/Cargo.lock")).toHaveLength(22);
    expect(locked("tools/py/poetry.lock")).toHaveLength(13);
    const declared = (file: string) => relations.filter((r) => r.type === "declares" && r.from === `file:${ref}/${file}`);
    expect(declared("gateway/go.mod")).toHaveLength(29);
    expect(declared("ml/requirements.txt")).toHaveLength(101);
    // package.json points at the versions its lockfile installed.
    expect(declared("apps/web-v3/package.json").map((r) => r.to).sort()).toEqual(["pkg:npm/%40sindresorhus/is@4.6.0", "pkg:npm/debug@2.6.9", "pkg:npm/is-number@7.0.0", "pkg:npm/left-pad@1.3.0", "pkg:npm/ms@2.1.3"]);
    expect(relations).toContainEqual({ type: "depends_on", from: "pkg:npm/debug@2.6.9", to: "pkg:npm/ms@2.0.0" });
    expect(relations).toContainEqual({ type: "depends_on", from: "pkg:cargo/syn@2.0.79", to: "pkg:cargo/quote@1.0.37" });
    expect(assets.find((a) => a.id === "pkg:golang/github.com/gin-contrib/sse@v0.1.0")).toMatchObject({ type: "package", properties: { ecosystem: "golang", version: "v0.1.0" } });
    // Every relation joins assets of the graph.
    const ids = new Set(assets.map((a) => a.id));
    expect(relations.every((r) => ids.has(r.from) && ids.has(r.to))).toBe(true);
    expect(new Set(assets.map((a) => a.id)).size).toBe(assets.length);
  });

  it("reads MCP configs inside the repository with the scan.mcp_config parser and findings", () => {
    const ref = fs.realpathSync(repo);
    const servers = assetsOf(out).filter((a) => a.type === "mcp_server");
    expect(servers.map((s) => s.id).sort()).toEqual([`mcp_server:${ref}/.cursor/mcp.json#/mcpServers/files`, `mcp_server:${ref}/.cursor/mcp.json#/mcpServers/remote`]);
    expect(assetsOf(out).find((a) => a.type === "mcp_client_config")!.properties).toMatchObject({ client: "cursor", path: ".cursor/mcp.json" });
    const rules = findingsOf(out).filter((f) => f.rule.startsWith("mcp.")).map((f) => `${f.rule} ${f.where}`).sort();
    expect(rules).toEqual([
      "mcp.broad_filesystem_root .cursor/mcp.json#/mcpServers/files",
      "mcp.plain_http_remote .cursor/mcp.json#/mcpServers/remote",
      "mcp.unpinned_package .cursor/mcp.json#/mcpServers/files",
    ]);
  });

  it("reports secret-like strings with file:line and redacted snippets, one finding per secret per file", () => {
    const secrets = findingsOf(out).filter((f) => f.rule.startsWith("secret."));
    const summary = secrets.map((f) => `${f.rule} ${f.where}`).sort();
    expect(summary).toEqual([
      "secret.aws_access_key_id config/settings.py:3",
      "secret.generic_assignment deploy/ci.yml:4",
      "secret.github_token config/settings.py:4",
      "secret.gitlab_token deploy/ci.yml:2",
      "secret.private_key deploy/id_rsa:1",
      "secret.slack_token deploy/ci.yml:3",
      "secret.url_credentials config/settings.py:6",
    ]);
    const github = secrets.find((f) => f.rule === "secret.github_token")!;
    expect(github.details).toMatchObject({ file: "config/settings.py", line: 4, lines: [4, 9], snippet: 'GITHUB_TOKEN = "ghp_[REDACTED]"' });
    expect(secrets.find((f) => f.rule === "secret.url_credentials")!.details.snippet).toBe('DATABASE_URL = "postgres://app:[REDACTED]@db.internal:5432/app"');
    expect(secrets.find((f) => f.rule === "secret.private_key")).toMatchObject({ severity: "critical", details: { snippet: "-----BEGIN OPENSSH PRIVATE KEY-----" } });
    expect(secrets.every((f) => f.asset === `repo:${fs.realpathSync(repo)}` && /^[0-9a-f]{32}$/.test(f.fingerprint))).toBe(true);
    expectNoSecretValue(out);
  });

  it("skips binaries, node_modules, symlinks and files over the size limit", () => {
    expect(out.summary).toMatchObject({ skipped_binary: 1, skipped_large: 1 });
    const files = findingsOf(out).map((f) => String(f.details.file ?? ""));
    expect(files.some((f) => f.startsWith("node_modules") || f.startsWith("linked-outside") || f.startsWith("assets") || f.startsWith("data"))).toBe(false);
  });

  it("gives the same fingerprints on a second run, and keeps them when lines move", async () => {
    const again = await collectRepo(input({ paths: [repo] }), limits);
    expect(findingsOf(again).map((f) => f.fingerprint).sort()).toEqual(findingsOf(out).map((f) => f.fingerprint).sort());
    const settings = path.join(repo, "config/settings.py");
    const original = fs.readFileSync(settings, "utf8");
    try {
      fs.writeFileSync(settings, `# moved down\n\n${original}`);
      const moved = await collectRepo(input({ paths: [repo] }), limits);
      const before = findingsOf(out).find((f) => f.rule === "secret.github_token")!;
      const after = findingsOf(moved).find((f) => f.rule === "secret.github_token")!;
      expect(after.fingerprint).toBe(before.fingerprint);
      expect(after.where).toBe("config/settings.py:6");
    } finally {
      fs.writeFileSync(settings, original);
    }
  });

  it("emits a redacted index of what it read as an artifact", () => {
    expect(out.artifacts).toHaveLength(1);
    const doc = JSON.parse(out.artifacts[0]!.body.toString("utf8"));
    expect(doc.format).toBe("cairn.repo-scan/v1");
    expect(doc.repositories[0].manifests).toHaveLength(10);
    expect(doc.repositories[0].manifests[0]).toHaveProperty("sha256");
    expect(doc.repositories[0].secrets).toHaveLength(7);
  });
});

describe("scan.repo on a clone", () => {
  it("clones by file:// URL (shallow), scans the checkout and removes it", async () => {
    const before = cairnTemps();
    const url = pathToFileURL(repo).href;
    const out = await collectRepo(input({ url }));
    const repoAsset = assetsOf(out).find((a) => a.type === "repository")!;
    expect(repoAsset).toMatchObject({ id: `repo:${url}`, name: "service", properties: { source: "clone", url, commit: headCommit, branch: "main" } });
    expect(out.summary).toMatchObject({ source: "clone", manifests: 10 });
    expect(findingsOf(out).filter((f) => f.rule.startsWith("secret.")).length).toBe(7);
    expect(assetsOf(out).some((a) => a.type === "mcp_server")).toBe(true);
    // The huge file is over the default 2 MiB limit too; the symlink exists in git but is not followed.
    expect(findingsOf(out).some((f) => String(f.details.file).startsWith("linked-outside"))).toBe(false);
    expectNoSecretValue(out);
    expect(cairnTemps()).toEqual(before);

    const again = await collectRepo(input({ url }));
    expect(findingsOf(again).map((f) => f.fingerprint).sort()).toEqual(findingsOf(out).map((f) => f.fingerprint).sort());
  });

  it("checks out a branch or a commit named by ref", async () => {
    const url = pathToFileURL(repo).href;
    const feature = await collectRepo(input({ url, ref: "feature" }));
    expect(findingsOf(feature).find((f) => f.where === "feature.txt:1")?.rule).toBe("secret.gitlab_token");
    const old = await collectRepo(input({ url, ref: firstCommit }));
    expect(assetsOf(old).find((a) => a.type === "repository")!.properties.commit).toBe(firstCommit);
    expect(old.summary).toMatchObject({ manifests: 0, secrets: 0, files: 1 });
  });

  it("fails clearly for a repository that does not exist, and cleans up", async () => {
    const before = cairnTemps();
    await expect(collectRepo(input({ url: pathToFileURL(path.join(work, "missing")).href }))).rejects.toThrow(/git clone failed: .*does not appear to be a git repository|git clone failed/);
    expect(cairnTemps()).toEqual(before);
  });

  it("stops the clone when the job is aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("time budget of 10 s exceeded");
    controller.abort(reason);
    await expect(collectRepo(input({ url: pathToFileURL(repo).href }, { signal: controller.signal }))).rejects.toBe(reason);
    const running = new AbortController();
    const pending = collectRepo(input({ url: pathToFileURL(repo).href }, { signal: running.signal }));
    running.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("honours the clone size budget", async () => {
    const before = cairnTemps();
    await expect(collectRepo(input({ url: pathToFileURL(repo).href }), { ...DEFAULT_REPO_LIMITS, maxCloneBytes: 64 * 1024 })).rejects.toMatchObject({ status: "too_large" });
    expect(cairnTemps()).toEqual(before);
  });
});

describe("path policy and scope", () => {
  it("refuses local paths and file:// remotes inside denied directories", async () => {
    const policy = { allowed: null, denied: [work] };
    await expect(collectRepo(input({ paths: [repo] }, { paths: policy }))).rejects.toThrow(/None of the scope paths could be scanned.*Cairn's own data/);
    await expect(collectRepo(input({ url: pathToFileURL(repo).href }, { paths: policy }))).rejects.toThrow(/is not cloned: inside Cairn's own data/);
    await expect(collectRepo(input({ paths: [repo] }, { paths: { allowed: [outside], denied: [] } }))).rejects.toThrow(/outside the scan roots/);
  });

  it("validates the scope", () => {
    expect(validateRepoScope({ paths: ["/src"] })).toBeNull();
    expect(validateRepoScope({ url: "https://github.com/o/r.git", ref: "v1.2.0" })).toBeNull();
    expect(validateRepoScope({ url: "git@github.com:o/r.git" })).toBeNull();
    expect(validateRepoScope({})).toMatch(/one of the two/);
    expect(validateRepoScope({ paths: ["/a"], url: "https://x/y" })).toMatch(/one of the two/);
    expect(validateRepoScope({ url: "ext::sh -c touch% /tmp/x" })).toMatch(/^scope\.url/);
    expect(validateRepoScope({ url: "https://user:pw@github.com/o/r.git" })).toMatch(/credential ref/);
    expect(validateRepoScope({ url: "ftp://example.com/r.git" })).toMatch(/ftp transport is not allowed/);
    expect(validateRepoScope({ url: "--upload-pack=touch" })).toMatch(/^scope\.url/);
    expect(validateRepoScope({ url: "https://github.com/o/r.git", ref: "../x" })).toMatch(/^scope\.ref/);
    expect(validateRepoScope({ paths: ["/a"], depth: 3 })).toBe("scope.depth: unknown field (scan.repo takes paths, or url and ref)");
  });

  it("maps the broker's bundle to git credentials by key name", () => {
    expect(gitCredentialsFrom({ TOKEN: "t0k" })).toEqual({ username: "x-access-token", password: "t0k", sshKey: undefined, knownHosts: undefined });
    expect(gitCredentialsFrom({ GIT_USERNAME: "bot", GIT_PASSWORD: "pw" })).toMatchObject({ username: "bot", password: "pw" });
    expect(gitCredentialsFrom({ OTHER: "x" })).toEqual({ username: undefined, password: undefined, sshKey: undefined, knownHosts: undefined });
  });
});
