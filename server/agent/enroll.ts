// `cairn agent enroll`: generate the node's Ed25519 key here (private half 0600, never sent), redeem the join token
// with a request signed by that key, wait for a platform owner's decision with backoff, then store the identity and
// the certificate the cluster's CA issued — after checking it is for our key, from that CA (and, with
// --ca-fingerprint, from the CA the operator expected).
import os from "node:os";
import type { Logger } from "../logger.ts";
import { certificateFingerprint } from "../domain/fabric/agent-protocol.ts";
import { version } from "../version.ts";
import { EnrollmentApi, generateNodeKey, type JoinStatus } from "./agent-api.ts";
import { AgentState, StateError } from "./agent-state.ts";
import { ControlPlaneClient, Refused, Unreachable } from "./control-plane-client.ts";
import { capabilities, hostFacts, machineId } from "./host-facts.ts";

export interface EnrollOptions {
  url: string;
  token: string;
  stateDir: string;
  cluster?: string;
  name?: string;
  caFingerprint?: string;
  /** Give up waiting for a decision after this long (0: wait indefinitely). */
  waitSeconds: number;
  concurrency: number;
  out: (line: string) => void;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exit code: 0 enrolled; 1 refused, rejected or gave up; 2 the state directory already holds an identity. */
export async function enroll(opts: EnrollOptions): Promise<number> {
  const state = AgentState.open(opts.stateDir);
  const existing = state.identity();
  if (existing) {
    opts.out(`This state directory (${state.dir}) already holds node ${existing.node_id} of cluster ${existing.cluster.slug}: use another --state-dir to enroll a new node.`);
    return 2;
  }
  const client = new ControlPlaneClient({ url: opts.url });
  let pending = state.enrollment();
  if (pending && pending.url !== client.base) pending = null;
  let key = state.key();
  if (!key || !pending) {
    key = generateNodeKey();
    state.saveNodeKey(key);
  }
  const api = new EnrollmentApi(client, key);

  if (!pending) {
    const hostname = os.hostname();
    const name = (opts.name ?? hostname.split(".")[0] ?? "node").replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63) || "node";
    try {
      const answer = await api.join(opts.token, {
        cluster: opts.cluster ?? null,
        node_name: name,
        hostname,
        machine_id: machineId(),
        facts: hostFacts(),
        capabilities: capabilities(opts.concurrency),
        agent_version: version,
      });
      pending = { url: client.base, request_id: answer.request_id, cluster: answer.cluster, requested_at: new Date().toISOString() };
      state.saveEnrollment(pending);
      opts.out(`Join request ${answer.request_id} sent to cluster ${answer.cluster.slug} (${answer.cluster.name}).`);
    } catch (err) {
      if (err instanceof Refused) {
        opts.out(`Enrollment refused (${err.status} ${err.code}): ${err.message}`);
        return 1;
      }
      if (err instanceof Unreachable) {
        opts.out(`Cannot reach the control plane: ${err.message}`);
        return 1;
      }
      throw err;
    }
  } else {
    opts.out(`Resuming join request ${pending.request_id} (cluster ${pending.cluster.slug}).`);
  }

  // Wait for the decision: 2 s, growing to 30 s; an unreachable control plane is waited out too.
  const deadline = opts.waitSeconds > 0 ? Date.now() + opts.waitSeconds * 1000 : Infinity;
  let delay = 2_000;
  let announced = false;
  let status: JoinStatus | null = null;
  while (Date.now() < deadline) {
    try {
      status = await api.status(pending.request_id);
      if (status.status !== "pending") break;
      if (!announced) {
        opts.out(`Waiting for a platform owner to approve join request ${pending.request_id}…`);
        announced = true;
      }
    } catch (err) {
      if (err instanceof Refused) {
        opts.out(`The control plane no longer knows join request ${pending.request_id} (${err.message}): enroll again with a new token.`);
        state.clearEnrollment();
        return 1;
      }
      if (!(err instanceof Unreachable)) throw err;
      opts.log.warn({ err: err.message }, "control plane unreachable while waiting for approval; retrying");
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(30_000, Math.round(delay * 1.5));
  }
  if (!status || status.status === "pending") {
    opts.out(`No decision on join request ${pending.request_id} within ${opts.waitSeconds} s: run the same command again to keep waiting.`);
    return 1;
  }
  if (status.status === "rejected") {
    state.clearEnrollment();
    opts.out(`Join request ${pending.request_id} was rejected${status.rejection_reason ? `: ${status.rejection_reason}` : ""}.`);
    return 1;
  }

  const caPem = status.ca_certificate_pem!;
  if (opts.caFingerprint && certificateFingerprint(caPem) !== opts.caFingerprint.toLowerCase()) {
    opts.out(`The cluster CA's fingerprint is ${certificateFingerprint(caPem)}, not the expected ${opts.caFingerprint}: refusing this identity.`);
    return 1;
  }
  try {
    state.saveIdentity(
      {
        url: client.base,
        node_id: status.node_id!,
        identity_id: status.identity_id!,
        cluster: status.cluster!,
        certificate_serial: status.certificate_serial!,
        certificate_not_after: status.certificate_not_after!,
        ca_fingerprint: status.ca_fingerprint!,
        enrolled_at: new Date().toISOString(),
      },
      status.certificate_pem!,
      caPem,
      key.privateKey,
    );
  } catch (err) {
    if (err instanceof StateError) {
      opts.out(`The issued certificate does not check out: ${err.message}`);
      return 1;
    }
    throw err;
  }
  state.clearEnrollment();
  opts.out(`Enrolled as node ${status.node_id} in cluster ${status.cluster!.slug}; certificate ${status.certificate_serial} valid until ${status.certificate_not_after}.`);
  opts.out(`Start it with: cairn agent run --state-dir ${state.dir}`);
  return 0;
}
