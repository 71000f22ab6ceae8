// The whole fabric with real processes: a `cairn web` control plane and real `cairn agent enroll` / `cairn agent run`
// processes. Token → join request → approval → heartbeats → scan-worker assigned for a tenant → the node claims and
// completes that tenant's scan → the control plane goes away and comes back (the agent keeps running and reports
// degraded) → revocation: the agent's next request is refused, it exits with a clear message, and claims stop.
import { createPrivateKey, createPublicKey } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, runCairn, startCairn, tempDataDir, waitForReady, type CairnProcess } from "../../test/cairn-process.ts";
import { keyFingerprint, rawPublicKeyOf } from "../domain/fabric/agent-protocol.ts";

const procs: CairnProcess[] = [];
const dirs: string[] = [];
const track = (p: CairnProcess) => (procs.push(p), p);
const dir = (prefix: string) => {
  const d = tempDataDir(prefix);
  dirs.push(d);
  return d;
};

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop("SIGKILL");
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("cairn agent", () => {
  it("enrolls with approval, runs a tenant's scan, survives an outage, and stops for good when revoked", async () => {
    const dataDir = dir("cairn-fabric-web-");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const webEnv = { PORT: String(port), CAIRN_DATA_DIR: dataDir, CAIRN_PUBLIC_URL: base };
    let web = track(startCairn(["web"], webEnv));
    await waitForReady(base, web);

    const boot = JSON.parse((await runCairn(["admin", "bootstrap", "--tenant", "acme", "--json"], { CAIRN_DATA_DIR: dataDir })).stdout) as { tenant_id: string; api_key: string };
    const platform = JSON.parse((await runCairn(["admin", "api-key", "create", "--platform", "--high-risk", "--json"], { CAIRN_DATA_DIR: dataDir })).stdout) as { api_key: string };
    const api = async <T>(key: string, method: string, route: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}/v1${route}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await res.json()) as T & { error?: { message: string } };
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${json.error?.message}`);
      return json;
    };
    const owner = <T>(method: string, route: string, body?: unknown) => api<T>(platform.api_key, method, route, body);
    const tenant = <T>(method: string, route: string, body?: unknown) => api<T>(boot.api_key, method, route, body);

    // The platform owner creates a cluster and a one-use join token.
    const cluster = await owner<{ cluster_id: string }>("POST", "/clusters", { slug: "edge", name: "Edge sites" });
    const token = await owner<{ token: string }>("POST", `/clusters/${cluster.cluster_id}/join-tokens`, { max_uses: 1, ttl_seconds: 600 });

    // A real agent process enrolls and waits for approval.
    const stateDir = dir("cairn-agent-state-");
    const agentData = dir("cairn-agent-data-");
    const agentEnv = { CAIRN_DATA_DIR: agentData, LOG_LEVEL: "info" };
    const enrolling = track(startCairn(["agent", "enroll", "--url", base, "--token", token.token, "--state-dir", stateDir, "--cluster", "edge", "--name", "branch-office"], agentEnv));
    const request = await until("the join request", async () => (await owner<{ items: { request_id: string; claimed: { node_name: string }; verified: { proof_of_possession: boolean; key_fingerprint: string } }[] }>("GET", "/join-requests?status=pending")).items[0]);
    expect(request.claimed.node_name).toBe("branch-office");
    expect(request.verified.proof_of_possession).toBe(true);
    // The private key stays on the node (0600); the control plane holds only the public half.
    const keyFile = path.join(stateDir, "node.key");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const publicKeyRaw = rawPublicKeyOf(createPublicKey(createPrivateKey(fs.readFileSync(keyFile, "utf8"))));
    expect(request.verified.key_fingerprint).toBe(keyFingerprint(publicKeyRaw));
    await until("the agent to wait for approval", async () => enrolling.output().includes("Waiting for a platform owner to approve"));

    const approval = await owner<{ approved: { node_id: string }[] }>("POST", `/join-requests/${request.request_id}/approve`);
    const nodeId = approval.approved[0]!.node_id;
    expect((await enrolling.exited).code).toBe(0);
    expect(enrolling.output()).toContain(`Enrolled as node ${nodeId} in cluster edge`);
    expect(fs.existsSync(path.join(stateDir, "node.crt"))).toBe(true);
    const nodeDetail = await owner<{ identities: { key_fingerprint: string }[] }>("GET", `/nodes/${nodeId}`);
    expect(nodeDetail.identities).toHaveLength(1);
    expect(JSON.stringify(await owner("GET", `/nodes/${nodeId}`))).not.toContain(fs.readFileSync(keyFile, "utf8").split("\n")[1]!);

    // The agent runs, heartbeats and shows healthy.
    let agent = track(startCairn(["agent", "run", "--state-dir", stateDir], agentEnv));
    await until("a healthy node", async () => (await owner<{ health: string }>("GET", `/nodes/${nodeId}`)).health === "healthy");

    // scan-worker for acme: the node claims and completes acme's scan.
    const scanDir = dir("cairn-agent-scan-");
    fs.mkdirSync(path.join(scanDir, ".cursor"));
    fs.copyFileSync(path.resolve(import.meta.dirname, "../connectors/mcp-config/fixtures/cursor/0xJacky__nginx-ui.json"), path.join(scanDir, ".cursor", "mcp.json"));
    await owner("POST", `/nodes/${nodeId}/roles`, { role: "scan-worker", tenant_id: boot.tenant_id });
    await until("the scan-worker running on the node", async () => {
      const n = await owner<{ workloads: { type: string; reported: string }[] }>("GET", `/nodes/${nodeId}`);
      return n.workloads.some((w) => w.type === "scan-worker" && ["idle", "running"].includes(w.reported));
    });
    const source = await tenant<{ source_id: string }>("POST", "/sources", { kind: "scan.mcp_config", display_name: "branch office laptops", scope: { paths: [scanDir] } });
    const run = await tenant<{ run_id: string; job_id: string }>("POST", `/sources/${source.source_id}/run`);
    const finished = await until("the run to finish", async () => {
      const r = await tenant<{ status: string; stages: { collect: { status: string; items: number } } }>("GET", `/runs/${run.run_id}`);
      return ["succeeded", "failed"].includes(r.status) ? r : null;
    });
    expect(finished.status).toBe("succeeded");
    expect(finished.stages.collect.items).toBeGreaterThan(0);
    expect((await tenant<{ items: unknown[] }>("GET", `/sources/${source.source_id}/evidence`)).items.length).toBeGreaterThan(0);
    expect(agent.output()).toContain("job reported");

    // The control plane goes away: the agent keeps running from its last valid desired state…
    expect((await web.stop("SIGTERM")).code).toBe(0);
    // Successful heartbeats (every node, every 10 s) are not logged at info.
    expect(web.output()).toContain("request completed");
    expect(web.output()).not.toMatch(/"url":"[^"]*heartbeat[^"]*"/);
    await until("the agent to notice", async () => agent.output().includes("control plane unreachable; running from the last valid desired state"), 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(agent.child.exitCode).toBeNull();
    // …and reports degraded once it is back.
    web = track(startCairn(["web"], webEnv));
    await waitForReady(base, web);
    const degraded = await until("a degraded heartbeat after the outage", async () => {
      const n = await owner<{ recent_heartbeats: { status: string; detail: { degraded?: { reason: string; offline_seconds?: number } } }[] }>("GET", `/nodes/${nodeId}`);
      return n.recent_heartbeats.find((h) => h.status === "degraded");
    });
    expect(degraded.detail.degraded!.reason).toMatch(/control plane unreachable/);
    expect(degraded.detail.degraded!.offline_seconds).toBeGreaterThan(0);
    await until("healthy again", async () => (await owner<{ health: string }>("GET", `/nodes/${nodeId}`)).health === "healthy");

    // Revocation: the agent's next request is refused; it stops claiming and exits non-zero with a clear message.
    await owner("POST", `/nodes/${nodeId}/revoke`, { reason: "office closed" });
    const exit = await Promise.race([agent.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    expect(exit?.code).toBe(3);
    expect(agent.output()).toMatch(/identity was revoked/);
    expect(agent.output()).toContain("stopped claiming work");
    // Nothing claims acme's next scan any more (this control plane runs no workers of its own).
    const second = await tenant<{ run_id: string; job_id: string }>("POST", `/sources/${source.source_id}/run`);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await tenant<{ status: string }>("GET", `/jobs/${second.job_id}`)).status).toBe("queued");
    // Running it again is refused before any work starts.
    agent = track(startCairn(["agent", "run", "--state-dir", stateDir], agentEnv));
    expect((await agent.exited).code).toBe(3);
    expect(agent.output()).toMatch(/revoked/);
    await web.stop("SIGTERM");
  }, 240_000);
});
