// Which local paths a connector may read on the worker's machine: only under CAIRN_SCAN_ROOTS when it is set, and
// never inside Cairn's own data or credentials directories (a tenant must not read the installation's secrets).
import fs from "node:fs/promises";
import path from "node:path";

export interface PathPolicy {
  /** Absolute roots a scan may read under; null means anywhere not denied. */
  allowed: string[] | null;
  /** Absolute directories no scan may read. */
  denied: string[];
}

const within = (child: string, root: string) => child === root || child.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Resolves symlinks first, so a link cannot lead out of an allowed root or into a denied one. Returns a reason or null. */
export async function pathRefusal(policy: PathPolicy | undefined, target: string): Promise<string | null> {
  if (!policy) return null;
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch {
    real = path.resolve(target);
  }
  const denied = await Promise.all(policy.denied.map((d) => fs.realpath(d).catch(() => path.resolve(d))));
  if (denied.some((d) => within(real, d))) return "inside Cairn's own data or credentials directory, which scans may never read";
  if (policy.allowed) {
    const allowed = await Promise.all(policy.allowed.map((a) => fs.realpath(a).catch(() => path.resolve(a))));
    if (!allowed.some((a) => within(real, a))) return `outside the scan roots this installation allows (CAIRN_SCAN_ROOTS: ${policy.allowed.join(", ")})`;
  }
  return null;
}
