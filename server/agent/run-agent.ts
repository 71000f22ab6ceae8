// `cairn agent run`: heartbeats (status, version, capabilities, workloads, running jobs), the signed desired-state
// snapshot (verified against the cluster CA pinned at enrollment, never older than the one in use), supervision of
// the workloads it assigns, and certificate rotation before expiry. When the control plane is unreachable the agent
// keeps running from its last valid snapshot and reports `degraded` once it is reachable again; when its identity is
// revoked (or otherwise no longer valid) it stops all work and exits with a clear message.
import path from "node:path";
import type { Logger } from "../logger.ts";
import type { Env } from "../config/env.ts";
import { verifyDesiredState, SnapshotRejected, type DesiredState, type SignedDesiredState } from "../domain/fabric/agent-protocol.ts";
import { version } from "../version.ts";
import { generateNodeKey, NodeApi, type HeartbeatReport } from "./agent-api.ts";
import { AgentState, checkCertificate } from "./agent-state.ts";
import { ControlPlaneClient, Refused, Unreachable } from "./control-plane-client.ts";
import { capabilities, hostFacts } from "./host-facts.ts";
import { FATAL_REASONS, ScanWorker } from "./scan-worker.ts";

export interface RunOptions {
  stateDir: string;
  concurrency: number;
  env: Env;
  log: Logger;
  err: (line: string) => void;
  /** Resolves when the agent should stop (SIGTERM/SIGINT). */
  stopSignal: AbortSignal;
}

/** Exit codes: 0 stopped cleanly; 2 not enrolled or the state directory is unusable; 3 identity revoked or invalid. */
export const EXIT_REVOKED = 3;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export async function runAgent(opts: RunOptions): Promise<number> {
  const { log } = opts;
  const state = AgentState.open(opts.stateDir);
  const identity = state.identity();
  const key = state.key();
  const certificate = state.certificatePem();
  const caPem = state.caPem();
  if (!identity || !key || !certificate || !caPem) {
    opts.err(`This node is not enrolled (no identity in ${state.dir}): run cairn agent enroll --url URL --token TOKEN${opts.stateDir ? ` --state-dir ${opts.stateDir}` : ""} first.`);
    return 2;
  }
  checkCertificate(certificate, caPem, key.publicKeyRaw);

  const client = new ControlPlaneClient({ url: identity.url, timeoutMs: 15_000 });
  const api = new NodeApi(client, { nodeId: identity.node_id, identityId: identity.identity_id, privateKey: key.privateKey });
  const startedAt = new Date().toISOString();
  let fatal: Refused | null = null;
  const halted = new AbortController();
  const stop = AbortSignal.any([opts.stopSignal, halted.signal]);
  const onFatal = (err: Refused) => {
    if (fatal) return;
    fatal = err;
    halted.abort();
  };
  const scanWorker = new ScanWorker({
    api: () => api,
    log: log.child({ workload: "scan-worker" }),
    concurrency: opts.concurrency,
    // The node's own scan roots; never the agent's state (its private key) or Cairn's data directories.
    paths: { allowed: opts.env.scanRoots, denied: [state.dir, opts.env.dataDir, opts.env.credentialsDir].map((p) => path.resolve(p)) },
    onFatal,
  });

  // ------------------------------------------------------------------------------------------ desired state
  let snapshot: DesiredState | null = null;
  let degradedReason: string | null = null;
  const unsupported = new Map<string, string>();
  const accept = (envelope: SignedDesiredState, source: "disk" | "control plane") => {
    const verified = verifyDesiredState(envelope, { caCertificatePem: caPem, clusterId: identity.cluster.id, nodeId: identity.node_id, minVersion: snapshot?.version ?? 0 });
    if (source === "control plane") state.saveSnapshot(envelope);
    snapshot = verified;
    apply(verified);
    log.info({ version: verified.version, workloads: verified.workloads.map((w) => `${w.type}:${w.desired}`), source }, "desired state applied");
  };
  const apply = (s: DesiredState) => {
    unsupported.clear();
    const scan = s.workloads.find((w) => w.type === scanWorker.type);
    if (scan && scan.desired === "running" && scan.assignments.length) {
      scanWorker.configure(scan);
      scanWorker.start();
    } else if (scanWorker.active) {
      void scanWorker.stop();
    }
    for (const w of s.workloads.filter((x) => x.type !== scanWorker.type && x.desired === "running")) unsupported.set(w.type, `this agent build does not run ${w.type}`);
  };
  const onDisk = state.snapshot();
  if (onDisk) {
    try {
      accept(onDisk, "disk");
    } catch (err) {
      log.warn({ err: (err as Error).message }, "stored desired state ignored");
    }
  }

  // ------------------------------------------------------------------------------------------ heartbeats
  let unreachableSince: number | null = null;
  let lastWarned = 0;
  const report = (): HeartbeatReport => {
    const offline = unreachableSince;
    const workloads: HeartbeatReport["workloads"] = [
      {
        type: scanWorker.type,
        state: scanWorker.state(),
        version,
        detail: { ...scanWorker.stats, running_jobs: scanWorker.runningJobs().length },
      },
      ...[...unsupported].map(([type, why]) => ({ type, state: "failed" as const, version, detail: { error: why } })),
    ];
    const failing = scanWorker.state() === "failed" ? `scan-worker failing: ${scanWorker.stats.last_error ?? "unknown error"}` : null;
    const reason = offline ? `control plane unreachable for ${Math.round((Date.now() - offline) / 1000)} s; ran from the last valid desired state` : (degradedReason ?? failing);
    return {
      status: reason || unsupported.size ? "degraded" : "healthy",
      agent_version: version,
      started_at: startedAt,
      snapshot_version: snapshot?.version ?? null,
      capabilities: capabilities(opts.concurrency),
      facts: hostFacts(),
      workloads,
      running_jobs: scanWorker.runningJobs(),
      degraded: reason ? { reason, ...(offline ? { since: new Date(offline).toISOString(), offline_seconds: Math.round((Date.now() - offline) / 1000) } : {}) } : unsupported.size ? { reason: [...unsupported.values()].join("; ") } : null,
    };
  };

  const rotate = async () => {
    const next = generateNodeKey();
    state.saveNextKey(next);
    const answer = await api.rotate(next);
    if (answer.ca_fingerprint !== identity.ca_fingerprint) throw new Error("the rotated certificate comes from a different CA than the one pinned at enrollment");
    const updated = { ...identity, identity_id: answer.identity_id, certificate_serial: answer.certificate_serial, certificate_not_after: answer.certificate_not_after };
    state.saveIdentity(updated, answer.certificate_pem, answer.ca_certificate_pem, next.privateKey);
    state.promoteNextKey();
    Object.assign(identity, updated);
    api.identity = { nodeId: identity.node_id, identityId: answer.identity_id, privateKey: next.privateKey };
    log.info({ serial: answer.certificate_serial, not_after: answer.certificate_not_after }, "certificate rotated");
  };

  log.info({ node: identity.node_id, cluster: identity.cluster.slug, url: identity.url }, "agent running");
  let interval = (snapshot as DesiredState | null)?.heartbeat_seconds ?? 10;
  while (!stop.aborted) {
    try {
      const sent = report();
      const answer = await api.heartbeat(sent, stop);
      interval = answer.heartbeat_seconds;
      if (unreachableSince) log.info({ offline_seconds: Math.round((Date.now() - unreachableSince) / 1000) }, "control plane reachable again; reported degraded, catching up");
      unreachableSince = null;
      if (!snapshot || answer.desired_version > (snapshot as DesiredState).version) {
        try {
          accept(await api.desiredState(), "control plane");
          degradedReason = null;
        } catch (err) {
          if (!(err instanceof SnapshotRejected)) throw err;
          degradedReason = `desired state rejected: ${err.message}`;
          log.error({ err: err.message }, "desired state rejected; keeping the last valid one");
        }
      }
      if (answer.rotate_certificate) await rotate().catch((err) => log.error({ err: (err as Error).message }, "certificate rotation failed; will retry"));
    } catch (err) {
      if (err instanceof Unreachable) {
        if (!unreachableSince) unreachableSince = Date.now();
        if (Date.now() - lastWarned > 60_000) {
          lastWarned = Date.now();
          log.warn({ err: err.message, snapshot_version: snapshot ? (snapshot as DesiredState).version : null }, "control plane unreachable; running from the last valid desired state");
        }
      } else if (err instanceof Refused && err.reason && FATAL_REASONS.has(err.reason)) {
        onFatal(err);
      } else if (err instanceof Refused) {
        log.error({ status: err.status, code: err.code, err: err.message }, "heartbeat refused");
      } else if ((err as Error).name === "AbortError" || stop.aborted) {
        break;
      } else {
        log.error({ err }, "heartbeat failed");
      }
    }
    await sleep(unreachableSince ? Math.min(interval, 5) * 1000 : interval * 1000, stop);
  }

  if (fatal) {
    const f = fatal as Refused;
    await scanWorker.stop(0);
    opts.err(`cairn agent: ${f.message}`);
    opts.err(`cairn agent: stopped claiming work; node ${identity.node_id} (${f.reason}).`);
    return EXIT_REVOKED;
  }
  log.info("agent stopping: no new claims, finishing running jobs");
  await scanWorker.stop(Math.max(0, opts.env.CAIRN_SHUTDOWN_TIMEOUT_MS - 1_000));
  log.info("agent stopped");
  return 0;
}
