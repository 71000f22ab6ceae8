// Runs a connector's subprocess (a `git clone`, a custom connector executable) under Cairn's rules: exactly the
// environment it is given (nothing inherited implicitly), its own process group so the whole tree dies together,
// the job's AbortSignal, a time budget, and an output budget counted over stdout, stderr and the files it writes.
// A budget that runs out kills the group and fails with a ConnectorBudgetError whose `status` says which one.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";

/** What ran out: the pipeline records it as the collect stage's status (timed_out / too_large). */
export type BudgetStatus = "timed_out" | "too_large";

/**
 * A connector overran its own time or output budget. Retrying would overrun again, so it is permanent. A time budget
 * ends the job and its run as `timed_out` (`finalStatus`, which the worker honours); an output budget fails them, and
 * the collect stage cell says `too_large`.
 */
export class ConnectorBudgetError extends Error {
  readonly permanent = true;
  readonly finalStatus: "timed_out" | undefined;
  constructor(
    readonly status: BudgetStatus,
    message: string,
  ) {
    super(message);
    this.name = "ConnectorBudgetError";
    this.finalStatus = status === "timed_out" ? "timed_out" : undefined;
  }
}

/**
 * A connector's output could not be used. `where` points into it (`output.json:3:14`, `output.json#/graph/assets`),
 * so the stage error says what and where; the run fails cleanly instead of the worker crashing.
 */
export class ConnectorOutputError extends Error {
  readonly permanent = true;
  readonly status = "failed" as const;
  constructor(
    /** What is wrong, without the location (the stage error carries `where` beside it). */
    readonly problem: string,
    readonly where: string,
  ) {
    super(`${problem} (at ${where})`);
    this.name = "ConnectorOutputError";
  }
}

export interface ProcessSpec {
  command: string;
  args: string[];
  /** The child's whole environment. */
  env: Record<string, string>;
  cwd: string;
  /** Written to stdin, which is then closed (stdin is closed at once when absent). */
  stdin?: Buffer;
  /** The job's signal: cancellation, the job's time budget and shutdown all end the process group. */
  signal: AbortSignal;
  /** A budget of the subprocess's own, shorter than the job's (optional). */
  timeoutMs?: number;
  /** Bytes the process may produce: stdout + stderr + (when set) everything under watchDir. */
  maxOutputBytes: number;
  /** A directory whose files count against the output budget (polled; single files are also capped by RLIMIT_FSIZE). */
  watchDir?: string;
  /** Called with each complete line of output (at most maxLines lines, each cut to maxLineChars). */
  onLine?(stream: "stdout" | "stderr", line: string): void;
  maxLines?: number;
  /** Bytes of each stream kept for error messages (the tail). */
  keepTailBytes?: number;
  /** Name used in error messages ("git clone", "custom connector x"). */
  label: string;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdoutTail: string;
  stderrTail: string;
  /** stdout + stderr bytes. */
  streamBytes: number;
  /** Last measured size of watchDir. */
  watchedBytes: number;
  durationMs: number;
}

const POLL_MS = 150;
const MAX_LINE_CHARS = 2000;

/** Total size of regular files under dir (symlinks not followed); stops early past `limit`. */
export async function directorySize(dir: string, limit = Number.POSITIVE_INFINITY): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop()!;
    let entries;
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = path.join(current, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile()) {
        try {
          total += (await fs.lstat(full)).size;
        } catch {
          // removed meanwhile
        }
        if (total > limit) return total;
      }
    }
  }
  return total;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0]!.length >= this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString("utf8");
  }
}

/**
 * Runs one subprocess to completion under the spec's budgets. Resolves with its exit status (a non-zero exit is not
 * an error here: the caller decides); rejects with ConnectorBudgetError when a budget ran out, with the signal's
 * reason when the job was aborted, and with the spawn error when the program could not start.
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  spec.signal.throwIfAborted();
  const started = performance.now();
  // RLIMIT_FSIZE through the shell's ulimit caps every single file the tree writes at the output budget (the kernel
  // stops the writer with SIGXFSZ); the directory poll catches many smaller files. 512-byte blocks: dash's unit. The
  // shell's own PWD is unset so the child sees exactly spec.env.
  const blocks = Math.max(1, Math.ceil(spec.maxOutputBytes / 512));
  const child = spawn("/bin/sh", ["-c", `ulimit -f ${blocks} && unset PWD OLDPWD && exec "$0" "$@"`, spec.command, ...spec.args], {
    cwd: spec.cwd,
    env: spec.env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });

  return new Promise<ProcessResult>((resolve, reject) => {
    let settled = false;
    let failure: unknown = null;
    let streamBytes = 0;
    let watchedBytes = 0;
    let lines = 0;
    const maxLines = spec.maxLines ?? 200;
    const tails = { stdout: new Tail(spec.keepTailBytes ?? 8192), stderr: new Tail(spec.keepTailBytes ?? 8192) };
    const partial = { stdout: "", stderr: "" };

    const stop = (err: unknown) => {
      if (failure === null) failure = err;
      killGroup(child.pid);
    };
    const overBudget = () =>
      stop(new ConnectorBudgetError("too_large", `${spec.label} produced more than ${spec.maxOutputBytes} bytes of output (its output budget) and was stopped`));

    const onAbort = () => stop(spec.signal.reason ?? new Error("aborted"));
    spec.signal.addEventListener("abort", onAbort, { once: true });
    const timer = spec.timeoutMs
      ? setTimeout(() => stop(new ConnectorBudgetError("timed_out", `${spec.label} ran longer than its time budget of ${Math.round(spec.timeoutMs! / 1000)} s and was stopped`)), spec.timeoutMs)
      : null;

    let polling = false;
    const poller = spec.watchDir
      ? setInterval(() => {
          if (polling || failure !== null) return;
          polling = true;
          void directorySize(spec.watchDir!, spec.maxOutputBytes)
            .then((size) => {
              watchedBytes = size;
              if (streamBytes + watchedBytes > spec.maxOutputBytes) overBudget();
            })
            .finally(() => {
              polling = false;
            });
        }, POLL_MS)
      : null;

    const emitLines = (stream: "stdout" | "stderr", text: string, final: boolean) => {
      if (!spec.onLine) return;
      const combined = partial[stream] + text;
      const parts = combined.split(/\r?\n/);
      partial[stream] = final ? "" : parts.pop()!;
      if (partial[stream].length > MAX_LINE_CHARS) {
        parts.push(partial[stream]);
        partial[stream] = "";
      }
      for (const line of parts) {
        if (!line && !final) continue;
        if (!line) continue;
        if (lines++ >= maxLines) {
          if (lines === maxLines + 1) spec.onLine(stream, `… further output not shown (more than ${maxLines} lines)`);
          continue;
        }
        spec.onLine(stream, line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
      }
    };
    const onData = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      streamBytes += chunk.length;
      tails[stream].push(chunk);
      if (streamBytes + watchedBytes > spec.maxOutputBytes) return overBudget();
      emitLines(stream, chunk.toString("utf8"), false);
    };
    child.stdout.on("data", onData("stdout"));
    child.stderr.on("data", onData("stderr"));
    // A child that never reads its stdin (or exits first) must not turn into an unhandled EPIPE.
    child.stdin.on("error", () => {});
    if (spec.stdin) child.stdin.end(spec.stdin);
    else child.stdin.end();

    // Whatever the leader did, nothing of its group outlives it.
    child.on("exit", () => killGroup(child.pid));
    child.on("error", (err) => {
      if (failure === null) failure = err;
    });
    child.on("close", async (code, sig) => {
      if (settled) return;
      settled = true;
      spec.signal.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      if (poller) clearInterval(poller);
      emitLines("stdout", "", true);
      emitLines("stderr", "", true);
      if (failure === null && sig === "SIGXFSZ") {
        failure = new ConnectorBudgetError("too_large", `${spec.label} wrote a file larger than its output budget of ${spec.maxOutputBytes} bytes and was stopped`);
      }
      if (failure === null && spec.watchDir) {
        // The last word: what it left behind, however fast it wrote it.
        watchedBytes = await directorySize(spec.watchDir, spec.maxOutputBytes);
        if (streamBytes + watchedBytes > spec.maxOutputBytes) {
          failure = new ConnectorBudgetError("too_large", `${spec.label} produced more than ${spec.maxOutputBytes} bytes of output (its output budget)`);
        }
      }
      if (failure !== null) return reject(failure);
      resolve({
        exitCode: code,
        signal: sig,
        stdoutTail: tails.stdout.text(),
        stderrTail: tails.stderr.text(),
        streamBytes,
        watchedBytes,
        durationMs: performance.now() - started,
      });
    });
  });
}
