// Getting a repository to scan: a shallow `git clone` into a temporary directory under the driver's budgets, with
// no hooks, no system or user git config, only the transports Cairn allows, and credentials only in the clone
// process's environment (a credential helper reads them from there, so they never appear on a command line or in a
// URL). And reading HEAD of a checkout without running git in it (a repository's own config can run programs).
import fs from "node:fs/promises";
import path from "node:path";
import { inheritedProcessEnv } from "../../config/env.ts";
import { TransientError } from "../../worker/handler.ts";
import { ConnectorBudgetError, runProcess } from "../driver.ts";

/** Transports git may use (GIT_ALLOW_PROTOCOL); `ext::` and anything else that runs commands is refused. */
export const ALLOWED_GIT_PROTOCOLS = ["https", "http", "ssh", "git", "file"];

export interface GitCredentials {
  username?: string;
  password?: string;
  sshKey?: string;
  knownHosts?: string;
}

/** Which broker keys a clone understands (case-insensitive): the rest of the bundle never reaches git. */
export function gitCredentialsFrom(bundle: Record<string, string>): GitCredentials {
  const get = (...names: string[]) => {
    for (const [k, v] of Object.entries(bundle)) if (names.includes(k.toLowerCase())) return v;
    return undefined;
  };
  const token = get("git_token", "token", "github_token", "gitlab_token");
  const password = get("git_password", "password") ?? token;
  const username = get("git_username", "username") ?? (password ? "x-access-token" : undefined);
  return { username, password, sshKey: get("ssh_private_key", "git_ssh_key"), knownHosts: get("ssh_known_hosts", "known_hosts") };
}

/** A URL fit for display and for asset keys: no user info, no trailing slash. */
export function displayUrl(url: string): string {
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(url)) return url.replace(/\/+$/, "");
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return url;
  }
}

export interface CloneOptions {
  url: string;
  ref?: string;
  /** Where to clone (an empty directory that the caller removes afterwards). */
  into: string;
  /** A scratch directory for HOME and key files (removed by the caller). */
  scratch: string;
  credentials: GitCredentials;
  signal: AbortSignal;
  maxBytes: number;
  log(level: "info" | "warn" | "error", message: string): void;
}

const CREDENTIAL_HELPER = '!f() { test "$1" = get || exit 0; echo "username=${CAIRN_GIT_USERNAME}"; echo "password=${CAIRN_GIT_PASSWORD}"; }; f';

function gitEnv(opts: CloneOptions, extra: Record<string, string>): Record<string, string> {
  const os = inheritedProcessEnv();
  return {
    PATH: os.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: opts.scratch,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS.join(":"),
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    ...extra,
  };
}

async function git(opts: CloneOptions, args: string[], env: Record<string, string>, cwd: string, label: string): Promise<void> {
  const result = await runProcess({
    command: "git",
    args,
    env,
    cwd,
    signal: opts.signal,
    maxOutputBytes: opts.maxBytes,
    watchDir: opts.into,
    keepTailBytes: 4096,
    label,
  });
  if (result.exitCode !== 0) {
    const detail = result.stderrTail
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !/^(Cloning into|remote: (Enumerating|Counting|Compressing|Total))/.test(l))
      .slice(-4)
      .join(" · ");
    const missing = result.exitCode === 127 ? "git is not installed on this worker" : null;
    // The network or the server failing is worth a retry; anything else (no such repository, bad credentials) is not.
    if (/Could not resolve host|Failed to connect|Connection (timed out|refused|reset)|early EOF|remote end hung up|Operation timed out|returned error: 5\d\d/i.test(result.stderrTail)) {
      throw new TransientError(`${label} failed: ${detail}`);
    }
    throw Object.assign(new Error(`${label} failed${missing ? `: ${missing}` : detail ? `: ${detail}` : ` (exit ${result.exitCode ?? result.signal})`}`), { permanent: true });
  }
}

/** Shallow-clones opts.url at opts.ref (a branch, a tag or a commit) into opts.into. */
export async function cloneRepository(opts: CloneOptions): Promise<void> {
  const extra: Record<string, string> = {};
  const config = ["-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "protocol.ext.allow=never", "-c", "submodule.recurse=false", "-c", "core.fsmonitor=false"];
  const { username, password, sshKey, knownHosts } = opts.credentials;
  if (username && password) {
    config.push("-c", `credential.helper=${CREDENTIAL_HELPER}`);
    extra.CAIRN_GIT_USERNAME = username;
    extra.CAIRN_GIT_PASSWORD = password;
  }
  const ssh = ["ssh", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"];
  if (sshKey) {
    const keyFile = path.join(opts.scratch, "id_key");
    await fs.writeFile(keyFile, sshKey.endsWith("\n") ? sshKey : `${sshKey}\n`, { mode: 0o600 });
    ssh.push("-i", keyFile);
  }
  const knownHostsFile = path.join(opts.scratch, "known_hosts");
  if (knownHosts) {
    await fs.writeFile(knownHostsFile, knownHosts.endsWith("\n") ? knownHosts : `${knownHosts}\n`, { mode: 0o600 });
    ssh.push("-o", "StrictHostKeyChecking=yes");
  } else {
    // Without pinned host keys the first key seen is accepted for this clone only (the file is thrown away).
    ssh.push("-o", "StrictHostKeyChecking=accept-new");
  }
  ssh.push("-o", `UserKnownHostsFile=${knownHostsFile}`);
  extra.GIT_SSH_COMMAND = ssh.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const env = gitEnv(opts, extra);
  const ref = opts.ref?.trim();

  if (ref && /^[0-9a-f]{7,40}$/i.test(ref)) {
    // A commit: clone cannot check one out directly, so fetch exactly that commit (servers must allow it).
    await git(opts, [...config, "init", "--quiet", "--template=", opts.into], env, opts.scratch, "git init");
    await git(opts, [...config, "-C", opts.into, "remote", "add", "origin", "--", opts.url], env, opts.scratch, "git remote add");
    await git(opts, [...config, "-C", opts.into, "fetch", "--quiet", "--depth", "1", "--no-tags", "origin", ref], env, opts.scratch, `git fetch of commit ${ref}`);
    await git(opts, [...config, "-C", opts.into, "checkout", "--quiet", "--detach", "FETCH_HEAD"], env, opts.scratch, "git checkout");
  } else {
    const args = [...config, "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags", "--template="];
    if (ref) args.push("--branch", ref);
    args.push("--", opts.url, opts.into);
    try {
      await git(opts, args, env, opts.scratch, "git clone");
    } catch (err) {
      if (err instanceof ConnectorBudgetError) throw new ConnectorBudgetError(err.status, `the repository is larger than the clone budget of ${opts.maxBytes} bytes: clone stopped`);
      throw err;
    }
  }
}

export interface HeadInfo {
  commit: string | null;
  branch: string | null;
  /** remote.origin.url from .git/config, credentials removed. */
  remoteUrl: string | null;
}

/** HEAD of a checkout, read from .git files (no git process runs inside a repository Cairn does not control). */
export async function readHead(repoDir: string): Promise<HeadInfo | null> {
  let gitDir = path.join(repoDir, ".git");
  try {
    const st = await fs.lstat(gitDir);
    if (st.isFile()) {
      // A worktree or submodule: `gitdir: <path>`.
      const pointer = /^gitdir:\s*(.+)$/m.exec(await fs.readFile(gitDir, "utf8"));
      if (!pointer) return null;
      gitDir = path.resolve(repoDir, pointer[1]!.trim());
    } else if (!st.isDirectory()) return null;
  } catch {
    return null;
  }
  const read = (p: string) => fs.readFile(path.join(gitDir, p), "utf8").catch(() => null);
  const head = (await read("HEAD"))?.trim() ?? null;
  if (!head) return null;
  let commit: string | null = null;
  let branch: string | null = null;
  const symbolic = /^ref:\s*(refs\/\S+)$/.exec(head);
  if (symbolic) {
    const ref = symbolic[1]!;
    branch = ref.replace(/^refs\/heads\//, "");
    commit = (await read(ref))?.trim() ?? null;
    if (!commit) {
      const packed = await read("packed-refs");
      const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
      commit = line ? line.split(" ")[0]! : null;
    }
  } else if (/^[0-9a-f]{40,64}$/.test(head)) commit = head;
  const config = (await read("config")) ?? "";
  const origin = /\[remote "origin"\][^[]*?\burl\s*=\s*(\S+)/.exec(config);
  return { commit: commit && /^[0-9a-f]{40,64}$/.test(commit) ? commit : null, branch, remoteUrl: origin ? displayUrl(origin[1]!) : null };
}
