// The executable behind an allow-list entry: where it really is, whether it can run, and what its bytes hash to.
// Checked when a platform owner allow-lists it and again before every run.
import { createHash } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** Executables larger than this are refused (hashing one on every run must stay cheap). */
export const MAX_EXECUTABLE_BYTES = 512 * 1024 * 1024;

export type ExecutableStatus = "ok" | "modified" | "missing" | "not_executable";

export interface ExecutableFacts {
  /** Symlinks resolved. */
  realPath: string;
  sha256: string;
  size: number;
  mode: number;
}

export class ExecutableProblem extends Error {
  constructor(
    readonly status: Exclude<ExecutableStatus, "ok" | "modified">,
    message: string,
  ) {
    super(message);
    this.name = "ExecutableProblem";
  }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Resolves, checks and hashes an executable; throws ExecutableProblem saying what is wrong. */
export async function inspectExecutable(file: string): Promise<ExecutableFacts> {
  if (!path.isAbsolute(file)) throw new ExecutableProblem("missing", "must be an absolute path");
  let realPath: string;
  try {
    realPath = await fs.realpath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExecutableProblem("missing", code === "ENOENT" ? "no such file on this host" : `cannot be read (${code ?? "error"})`);
  }
  const st = await fs.stat(realPath);
  if (!st.isFile()) throw new ExecutableProblem("not_executable", "is not a regular file");
  if (st.size > MAX_EXECUTABLE_BYTES) throw new ExecutableProblem("not_executable", `is larger than ${MAX_EXECUTABLE_BYTES} bytes`);
  try {
    await fs.access(realPath, constants.X_OK);
  } catch {
    throw new ExecutableProblem("not_executable", "is not executable (chmod +x)");
  }
  return { realPath, sha256: await sha256File(realPath), size: st.size, mode: st.mode };
}

/** Whether the file at path still is the allow-listed executable. */
export async function executableStatus(file: string, sha256: string): Promise<{ status: ExecutableStatus; detail: string | null; actualSha256: string | null }> {
  try {
    const facts = await inspectExecutable(file);
    if (facts.sha256 !== sha256) return { status: "modified", detail: `its SHA-256 is now ${facts.sha256}, not the allow-listed ${sha256}`, actualSha256: facts.sha256 };
    return { status: "ok", detail: null, actualSha256: facts.sha256 };
  } catch (err) {
    if (err instanceof ExecutableProblem) return { status: err.status, detail: err.message, actualSha256: null };
    throw err;
  }
}
