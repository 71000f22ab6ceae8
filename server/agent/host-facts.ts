// What an agent says about its host (facts) and what it can run (capabilities). Both are claims: the control plane
// shows them as such, and neither authorizes anything.
import fs from "node:fs";
import os from "node:os";
import { supportedKinds } from "../connectors/registry.ts";
import { RUN_JOB_TYPE } from "../domain/runs/create-run.service.ts";
import { version } from "../version.ts";

export function machineId(): string | null {
  for (const file of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
    try {
      const id = fs.readFileSync(file, "utf8").trim();
      if (id) return id;
    } catch {
      /* not on this system */
    }
  }
  return null;
}

export function hostFacts(): Record<string, unknown> {
  return {
    os: os.platform(),
    os_release: os.release(),
    arch: os.arch(),
    cpus: os.cpus().length,
    memory_bytes: os.totalmem(),
    node_version: process.version,
    agent_version: version,
  };
}

export function capabilities(concurrency: number): Record<string, unknown> {
  return {
    can_run_scan_worker: true,
    connectors: supportedKinds().sort(),
    job_types: [RUN_JOB_TYPE],
    max_concurrency: concurrency,
    os: os.platform(),
    arch: os.arch(),
  };
}
