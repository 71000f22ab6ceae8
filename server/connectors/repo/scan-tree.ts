// One pass over a repository's files: dependency manifests and lockfiles are parsed, MCP client configs are read
// with the scan.mcp_config parser, and every text file is searched for secret-like strings. Bounded everywhere:
// depth, entries, bytes per file and in total; binaries, symlinks, VCS internals and dependency folders are skipped.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { isBinaryFileSync } from "isbinaryfile";
import { parseJsonOrJsonc } from "../mcp-config/jsonc.ts";
import { clientAcceptsJsonc, knownConfigName, parseConfig, type ParsedConfig } from "../mcp-config/parse-config.ts";
import { manifestKindOf, ManifestParseError, parseManifest, type ManifestKind, type ParsedManifest } from "./manifests/index.ts";
import { findSecrets, type SecretMatch } from "./secrets.ts";

export interface RepoLimits {
  maxDepth: number;
  /** Directory entries looked at. */
  maxEntries: number;
  /** Largest file searched for secrets or read as an MCP config. */
  maxFileBytes: number;
  /** Largest manifest or lockfile parsed (lockfiles of big monorepos run to tens of megabytes). */
  maxManifestBytes: number;
  /** Bytes read in all. */
  maxTotalBytes: number;
  /** Largest clone (download and checkout). */
  maxCloneBytes: number;
  /** Secret findings reported per file (the rest are counted). */
  maxSecretsPerFile: number;
}

export const DEFAULT_REPO_LIMITS: RepoLimits = {
  maxDepth: 40,
  maxEntries: 200_000,
  maxFileBytes: 2 * 1024 * 1024,
  maxManifestBytes: 64 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxCloneBytes: 2 * 1024 * 1024 * 1024,
  maxSecretsPerFile: 50,
};

/** Never worth descending into: VCS internals, installed dependencies, caches and virtualenvs. */
export const SKIPPED_DIRS = new Set([".git", ".hg", ".svn", "node_modules", "bower_components", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache", ".gradle", ".terraform", ".next", ".cache"]);

/** Extensions that are binary for certain: skipped without being opened. */
const BINARY_EXTENSIONS = new Set(
  "png jpg jpeg gif webp bmp ico icns tif tiff psd pdf zip gz tgz bz2 xz zst 7z rar jar war ear class so dll dylib exe bin o a lib obj pyc pyo whl egg woff woff2 ttf otf eot mp3 mp4 m4a wav ogg flac mov avi mkv webm wasm db sqlite sqlite3 dmg iso deb rpm apk ipa".split(" "),
);

const MCP_SHAPE_HINT = /"(mcpServers|servers|mcp\.servers|mcp)"\s*:/;

export interface ScannedManifest {
  /** Path inside the repository, `/`-separated. */
  file: string;
  kind: ManifestKind;
  sha256: string;
  size: number;
  parsed: ParsedManifest;
}

export interface ScannedMcpConfig {
  file: string;
  format: "json" | "jsonc";
  parsed: ParsedConfig;
}

export interface ScannedSecrets {
  file: string;
  matches: SecretMatch[];
  /** The text of each line that has a match (kept only long enough to build redacted snippets). */
  lines: Map<number, string>;
  /** Matches beyond maxSecretsPerFile, counted only. */
  dropped: number;
}

export interface TreeScan {
  manifests: ScannedManifest[];
  mcpConfigs: ScannedMcpConfig[];
  secrets: ScannedSecrets[];
  stats: {
    files: number;
    files_read: number;
    bytes_read: number;
    skipped_binary: number;
    skipped_large: number;
    skipped_symlinks: number;
    skipped_dirs: number;
    skipped_denied: number;
  };
  warnings: { message: string; where?: string }[];
}

interface Ctx {
  root: string;
  limits: RepoLimits;
  signal: AbortSignal;
  denied: string[];
  out: TreeScan;
  entries: number;
  stopped: boolean;
}

const toPosix = (rel: string) => rel.split(path.sep).join("/");
const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

async function processFile(ctx: Ctx, full: string, rel: string, name: string): Promise<void> {
  const { limits, out } = ctx;
  out.stats.files++;
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1).toLowerCase() : "";
  if (BINARY_EXTENSIONS.has(ext)) {
    out.stats.skipped_binary++;
    return;
  }
  const manifestKind = manifestKindOf(name);
  let size: number;
  try {
    size = (await fs.lstat(full)).size;
  } catch (err) {
    out.warnings.push({ message: `file cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, where: rel });
    return;
  }
  const cap = manifestKind ? limits.maxManifestBytes : limits.maxFileBytes;
  if (size > cap) {
    out.stats.skipped_large++;
    if (manifestKind) out.warnings.push({ message: `${manifestKind} larger than ${cap} bytes was not parsed`, where: rel });
    return;
  }
  if (out.stats.bytes_read + size > limits.maxTotalBytes) {
    if (!ctx.stopped) out.warnings.push({ message: `stopped reading after ${limits.maxTotalBytes} bytes: files after this one were not scanned`, where: rel });
    ctx.stopped = true;
    return;
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(full);
  } catch (err) {
    out.warnings.push({ message: `file cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, where: rel });
    return;
  }
  out.stats.bytes_read += bytes.length;
  out.stats.files_read++;
  if (bytes.length && isBinaryFileSync(bytes, Math.min(bytes.length, 8192))) {
    out.stats.skipped_binary++;
    return;
  }
  const text = bytes.toString("utf8");

  if (bytes.length <= limits.maxFileBytes || manifestKind) {
    const matches = findSecrets(text);
    if (matches.length) {
      const kept = matches.slice(0, limits.maxSecretsPerFile);
      const allLines = text.split("\n");
      const lines = new Map<number, string>();
      for (const m of kept) lines.set(m.line, allLines[m.line - 1] ?? "");
      out.secrets.push({ file: rel, matches: kept, lines, dropped: matches.length - kept.length });
    }
  }

  if (manifestKind) {
    try {
      const parsed = parseManifest(manifestKind, text, rel);
      out.manifests.push({ file: rel, kind: manifestKind, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, parsed });
      out.warnings.push(...parsed.warnings);
    } catch (err) {
      if (!(err instanceof ManifestParseError)) throw err;
      out.warnings.push({ message: `${manifestKind} could not be parsed: ${err.message}`, where: err.line ? `${rel}:${err.line}${err.column ? `:${err.column}` : ""}` : rel });
    }
    return;
  }

  if (/\.jsonc?$/i.test(name) && bytes.length <= limits.maxFileBytes) {
    const explicit = knownConfigName(name);
    if (!explicit && !MCP_SHAPE_HINT.test(text)) return;
    const result = parseJsonOrJsonc(text, true);
    if (!result.ok) {
      if (explicit) out.warnings.push({ message: result.message, where: `${rel}:${result.line}:${result.column}` });
      return;
    }
    const parsed = parseConfig(rel, result.value, explicit);
    if (!parsed) return;
    if (result.jsonc && !clientAcceptsJsonc(parsed.client)) {
      out.warnings.push({ message: `file has comments or trailing commas, which ${parsed.client} does not accept: the client may fail to load it`, where: rel });
    }
    out.warnings.push(...parsed.warnings);
    out.mcpConfigs.push({ file: rel, format: result.jsonc ? "jsonc" : "json", parsed });
  }
}

/** Scans one checkout; paths in the result are relative to root. */
export async function scanTree(root: string, opts: { limits: RepoLimits; signal: AbortSignal; deniedDirs: string[] }): Promise<TreeScan> {
  const realRoot = await fs.realpath(root);
  const denied = await Promise.all(opts.deniedDirs.map((d) => fs.realpath(d).catch(() => path.resolve(d))));
  const out: TreeScan = {
    manifests: [],
    mcpConfigs: [],
    secrets: [],
    stats: { files: 0, files_read: 0, bytes_read: 0, skipped_binary: 0, skipped_large: 0, skipped_symlinks: 0, skipped_dirs: 0, skipped_denied: 0 },
    warnings: [],
  };
  const ctx: Ctx = { root: realRoot, limits: opts.limits, signal: opts.signal, denied, out, entries: 0, stopped: false };
  const queue: { dir: string; depth: number }[] = [{ dir: realRoot, depth: 0 }];
  while (queue.length && !ctx.stopped) {
    opts.signal.throwIfAborted();
    const { dir, depth } = queue.shift()!;
    let dirents;
    try {
      dirents = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      out.warnings.push({ message: `directory cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, where: toPosix(path.relative(realRoot, dir)) || "." });
      continue;
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      if (ctx.stopped) break;
      if (++ctx.entries > opts.limits.maxEntries) {
        out.warnings.push({ message: `stopped after ${opts.limits.maxEntries} directory entries: the rest of the repository was not scanned`, where: toPosix(path.relative(realRoot, dir)) || "." });
        ctx.stopped = true;
        break;
      }
      const full = path.join(dir, d.name);
      const rel = toPosix(path.relative(realRoot, full));
      if (d.isSymbolicLink()) {
        // Never followed: a link may point anywhere on the worker, including outside the scan roots.
        out.stats.skipped_symlinks++;
      } else if (d.isDirectory()) {
        if (SKIPPED_DIRS.has(d.name)) out.stats.skipped_dirs++;
        else if (denied.some((x) => within(full, x))) {
          out.stats.skipped_denied++;
          out.warnings.push({ message: "not scanned: inside Cairn's own data or credentials directory, which scans may never read", where: rel });
        } else if (depth + 1 > opts.limits.maxDepth) out.stats.skipped_dirs++;
        else queue.push({ dir: full, depth: depth + 1 });
      } else if (d.isFile()) {
        if (ctx.out.stats.files % 256 === 0) opts.signal.throwIfAborted();
        await processFile(ctx, full, rel, d.name);
      }
    }
  }
  return out;
}
