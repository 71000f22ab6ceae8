// What a stdio server's command line launches: `npx -y @scope/pkg@1.2.3`, `uvx pkg==1.0`, `uv tool run pkg`,
// `pipx run pkg`, `bunx pkg`, `docker run image:tag`. Only the launcher and the package are read from the arguments;
// everything else is left to the caller.

export type PackageEcosystem = "npm" | "pypi" | "oci";

export interface PackageRef {
  ecosystem: PackageEcosystem;
  name: string;
  /** The exact version (or image tag) when pinned; null when unpinned (no version, a dist-tag such as latest, a range, a URL). */
  version: string | null;
  /** True when the same command runs the same code tomorrow: an exact version, or an image digest. */
  pinned: boolean;
  /** How the package was requested, as written (a dist-tag, a range, a URL, `image:latest`). */
  requested: string;
  /** The program that fetches and runs it: npx, bunx, uvx, uv, pipx, docker, podman. */
  launcher: string;
  /** An OCI image digest (sha256:…), when given. */
  digest?: string;
  /** npx/bunx ran with -y/--yes: the package is installed without asking. */
  autoInstall?: boolean;
}

/** Lower-cased program name without directories or a Windows .exe/.cmd suffix: `/opt/asdf/shims/npx` → `npx`. */
export function programName(command: string): string {
  const base = command.trim().split(/[\\/]/).pop() ?? "";
  return base.toLowerCase().replace(/\.(exe|cmd|bat)$/, "");
}

/**
 * Splits a `command` written with its arguments in one string ("npx -y @scope/pkg", "sh -c '…'") into program and
 * arguments. Only when the first word has no path separators, so `C:\Program Files\node.exe` stays one program.
 */
export function splitCommand(command: string, args: string[]): { program: string; args: string[] } {
  const parts = command.trim().split(/\s+/);
  if (parts.length > 1 && !/[\\/]/.test(parts[0]!)) return { program: parts[0]!, args: [...parts.slice(1), ...args] };
  return { program: command, args };
}

/** The first positional argument, skipping flags and the values of flags that take one. */
function positional(args: string[], flagsWithValue: Set<string>): { value: string; index: number } | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (flagsWithValue.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return { value: a, index: i };
  }
  return null;
}

function flagValue(args: string[], names: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const name of names) {
      if (a === name && i + 1 < args.length) return args[i + 1]!;
      if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    }
  }
  return null;
}

const EXACT_VERSION = /^v?\d+(\.\d+)*([-+][0-9A-Za-z.+-]+)?$/;

const NPX_FLAGS_WITH_VALUE = new Set(["--registry", "--cache", "--prefix", "-p", "--package", "--userconfig", "-c", "--call", "-w", "--workspace"]);

export function npmPackage(spec: string, launcher: string, autoInstall: boolean): PackageRef {
  if (spec.includes("://") || spec.startsWith("git+") || spec.startsWith("file:") || /^[.~/]/.test(spec)) {
    return { ecosystem: "npm", name: spec, version: null, pinned: false, requested: spec, launcher, autoInstall };
  }
  // Scoped names start with @, so the version separator is the last @ after the first character.
  const at = spec.lastIndexOf("@");
  const name = at > 0 ? spec.slice(0, at) : spec;
  const requested = at > 0 ? spec.slice(at + 1) : "";
  const pinned = EXACT_VERSION.test(requested);
  return { ecosystem: "npm", name, version: pinned ? requested.replace(/^v/, "") : null, pinned, requested: requested || "(none)", launcher, autoInstall };
}

export function pypiPackage(spec: string, launcher: string): PackageRef {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(==|@)\s*(\S+)$/.exec(spec);
  if (m && EXACT_VERSION.test(m[4]!)) return { ecosystem: "pypi", name: m[1]!, version: m[4]!.replace(/^v/, ""), pinned: true, requested: `${m[3]}${m[4]}`, launcher };
  const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1] ?? spec;
  const requested = spec.slice(name.length).replace(/^\[[^\]]*\]/, "").trim();
  return { ecosystem: "pypi", name: spec.includes("://") ? spec : name, version: null, pinned: false, requested: requested || "(none)", launcher };
}

const UV_FLAGS_WITH_VALUE = new Set(["--from", "--with", "--python", "-p", "--index-url", "--index", "--extra-index-url", "--with-requirements", "--constraint", "-c"]);

function uvPackage(args: string[], launcher: string): PackageRef | null {
  const from = flagValue(args, ["--from"]);
  if (from) return pypiPackage(from, launcher);
  const p = positional(args, UV_FLAGS_WITH_VALUE);
  return p ? pypiPackage(p.value, launcher) : null;
}

// docker/podman `run` flags that take a value (the image is the first argument that is neither a flag nor a value).
const DOCKER_FLAGS_WITH_VALUE = new Set(
  "-e --env --env-file -v --volume --mount --network --net --name -p --publish -w --workdir --entrypoint -u --user --platform --pull -l --label --add-host --cpus -m --memory --device --cap-add --cap-drop --security-opt --tmpfs --ulimit -h --hostname --dns --restart --log-driver --log-opt --runtime --ipc --pid --shm-size --gpus --label-file --expose --link --volumes-from --group-add --cidfile --stop-signal --stop-timeout --health-cmd --userns --uts --cgroupns --memory-swap --cpu-shares -c --cpuset-cpus"
    .split(" "),
);

export function ociImage(image: string, launcher: string): PackageRef {
  const [ref, digest] = image.split("@") as [string, string | undefined];
  // A tag follows the last colon that comes after the last slash (a registry host may carry a port).
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const hasTag = colon > slash;
  const name = hasTag ? ref.slice(0, colon) : ref;
  const tag = hasTag ? ref.slice(colon + 1) : null;
  const pinned = Boolean(digest?.startsWith("sha256:"));
  return {
    ecosystem: "oci",
    name,
    version: tag && tag !== "latest" ? tag : null,
    pinned,
    requested: tag ?? "(none: latest)",
    launcher,
    ...(digest ? { digest } : {}),
  };
}

function dockerImage(args: string[], launcher: string): { ref: PackageRef; imageIndex: number } | null {
  const runAt = args.findIndex((a) => a === "run");
  if (runAt < 0) return null;
  const rest = args.slice(runAt + 1);
  const p = positional(rest, DOCKER_FLAGS_WITH_VALUE);
  return p ? { ref: ociImage(p.value, launcher), imageIndex: runAt + 1 + p.index } : null;
}

export interface ShellWrap {
  /** The shell program: sh, bash, zsh, cmd, powershell, pwsh, … */
  shell: string;
  /** The flag that makes it run a command string: -c, -lc, /c, -Command, … */
  flag: string;
  /** The program the command string starts (its last command when the string chains several), lower-cased, no directory. */
  innerProgram: string | null;
}

export interface LaunchInfo {
  program: string;
  /** The arguments as the program receives them (a `command` written with its arguments is split first). */
  args: string[];
  package: PackageRef | null;
  /** For npx/bunx/uvx/docker: the index in `args` of the first argument passed to the server itself, if known. */
  serverArgsFrom: number | null;
  /** Set when the server is started through a shell running a command string (`bash -c "npx -y pkg"`). */
  shell?: ShellWrap | null;
  /** For a shell-wrapped server: the arguments passed to the server itself inside the command string, if known. */
  innerServerArgs?: string[];
}

const POSIX_SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox"]);
const POWERSHELLS = new Set(["powershell", "pwsh"]);
/** Programs that run the rest of their command line as another program (the shell may sit behind them). */
const PASS_THROUGH = new Set(["wsl", "env", "sudo", "doas", "nohup", "exec", "command", "nice", "time", "stdbuf", "setsid"]);

function isShell(program: string): boolean {
  return POSIX_SHELLS.has(program) || POWERSHELLS.has(program) || program === "cmd";
}

/** The shell's command-string flag and the command string, or null when the shell runs a script file (or nothing). */
function shellCommand(shell: string, args: string[]): { flag: string; command: string } | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const rest = args.slice(i + 1);
    if (POSIX_SHELLS.has(shell)) {
      // -c, or combined short options that include c (-lc, -ic, -ec); a first non-option word is a script file.
      if (/^-[A-Za-z]*c[A-Za-z]*$/.test(a)) return rest.length ? { flag: a, command: rest[0]!.includes(" ") || rest.length === 1 ? rest[0]! : rest.join(" ") } : null;
      if (!a.startsWith("-") && !a.startsWith("+")) return null;
    } else if (shell === "cmd") {
      if (/^\/[ck]$/i.test(a)) return rest.length ? { flag: a, command: rest.join(" ") } : null;
    } else if (POWERSHELLS.has(shell)) {
      if (/^-(c|command|encodedcommand|e|ec|enc)$/i.test(a)) return rest.length ? { flag: a, command: rest.join(" ") } : null;
      if (/^-(file|f)$/i.test(a)) return null;
    }
  }
  return null;
}

/** Shell-style words: quotes group, backslashes escape (outside single quotes), the quotes themselves are dropped. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) word += text[++i]!;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The last simple command of a command string (`cd x && source y && npx -y pkg` → `npx -y pkg`), as words. */
function lastCommand(command: string): string[] {
  let text = command.trim();
  // A whole string wrapped in one pair of quotes (a split `bash -c 'npx -y pkg'`).
  if (/^(['"]).*\1$/s.test(text)) text = text.slice(1, -1);
  const segments: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ";" || ch === "|" || (ch === "&" && text[i + 1] === "&")) {
      if (ch !== ";" && text[i + 1] === ch) i++;
      segments.push(current);
      current = "";
    } else current += ch;
  }
  segments.push(current);
  const last = segments.map((s) => s.trim()).filter(Boolean).pop() ?? "";
  const words = shellWords(last);
  // Leading `exec`, `call`, PowerShell's `&` call operator and VAR=value assignments are not the program.
  while (words.length && (/^(exec|call|&)$/i.test(words[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))) words.shift();
  return words;
}

function shellWrapped(program: string, args: string[], depth: number): LaunchInfo | null {
  let shellAt = -1;
  if (isShell(program)) shellAt = 0;
  else if (PASS_THROUGH.has(program)) {
    const i = args.findIndex((a) => isShell(programName(a)));
    if (i >= 0) shellAt = i + 1;
  }
  if (shellAt < 0) return null;
  const shell = shellAt === 0 ? program : programName(args[shellAt - 1]!);
  const wrapped = shellCommand(shell, args.slice(shellAt));
  if (!wrapped) return null;
  const words = lastCommand(wrapped.command);
  const inner = words.length && depth < 2 ? launchInfo(words[0]!, words.slice(1), depth + 1) : null;
  return {
    program,
    args,
    package: inner?.package ?? null,
    serverArgsFrom: null,
    shell: { shell, flag: wrapped.flag, innerProgram: inner ? (inner.shell?.innerProgram ?? inner.program) : null },
    innerServerArgs: inner && inner.serverArgsFrom !== null ? inner.args.slice(inner.serverArgsFrom) : (inner?.innerServerArgs ?? []),
  };
}

/** Which package (if any) a stdio command line runs, looking through a shell's command string when there is one. */
export function launchInfo(command: string, rawArgs: string[], depth = 0): LaunchInfo {
  const { program: cmd, args } = splitCommand(command, rawArgs);
  const program = programName(cmd);
  const wrapped = shellWrapped(program, args, depth);
  if (wrapped) return wrapped;
  const autoInstall = args.includes("-y") || args.includes("--yes");
  if (program === "npx" || program === "bunx") {
    const explicit = flagValue(args, ["-p", "--package"]);
    const p = positional(args, NPX_FLAGS_WITH_VALUE);
    const spec = explicit ?? p?.value;
    if (!spec) return { program, args, package: null, serverArgsFrom: null };
    return { program, args, package: npmPackage(spec, program, autoInstall), serverArgsFrom: p ? p.index + 1 : null };
  }
  if ((program === "pnpm" || program === "yarn") && args[0] === "dlx") {
    const p = positional(args.slice(1), NPX_FLAGS_WITH_VALUE);
    return { program, args, package: p ? npmPackage(p.value, `${program} dlx`, true) : null, serverArgsFrom: p ? p.index + 2 : null };
  }
  if (program === "uvx") {
    return { program, args, package: uvPackage(args, "uvx"), serverArgsFrom: null };
  }
  if (program === "uv" && args[0] === "tool" && args[1] === "run") {
    return { program, args, package: uvPackage(args.slice(2), "uv tool run"), serverArgsFrom: null };
  }
  if (program === "pipx" && args[0] === "run") {
    const spec = flagValue(args, ["--spec"]);
    const p = positional(args.slice(1), new Set(["--spec", "--python", "--index-url", "--pip-args"]));
    const pkg = spec ?? p?.value;
    return { program, args, package: pkg ? pypiPackage(pkg, "pipx run") : null, serverArgsFrom: null };
  }
  if (program === "docker" || program === "podman") {
    const image = dockerImage(args, program);
    return { program, args, package: image?.ref ?? null, serverArgsFrom: image ? image.imageIndex + 1 : null };
  }
  return { program, args, package: null, serverArgsFrom: null };
}
