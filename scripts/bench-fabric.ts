// npm run bench:fabric — the fabric under load against one real `cairn web` process (embedded PostgreSQL):
//   1. 100 concurrent enrollments: 100 nodes redeem a token at once (each request signed by its own fresh key), one
//      step-up approves all 100 in one batch, the 100 pending agents fetch their certificates at once;
//   2. 1,000 simulated agents (enrolled the same way) heartbeat every 10 s for the measured window, each request
//      signed and verified; p50/p95/p99 heartbeat latency, and the CPU the web process and PostgreSQL use meanwhile.
// Options: --agents N (1000), --seconds S (120), --interval S (10), --enrollments N (100), --profile DIR (a V8 CPU
// profile of the web process, written when it exits).
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ControlPlaneClient } from "../server/agent/control-plane-client.ts";
import { EnrollmentApi, generateNodeKey, NodeApi, type HeartbeatReport } from "../server/agent/agent-api.ts";

const { values } = parseArgs({ options: { agents: { type: "string", default: "1000" }, seconds: { type: "string", default: "120" }, interval: { type: "string", default: "10" }, enrollments: { type: "string", default: "100" }, profile: { type: "string" } } });
const AGENTS = Number(values.agents);
const SECONDS = Number(values.seconds);
const INTERVAL = Number(values.interval);
const ENROLLMENTS = Number(values.enrollments);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-bench-fabric-"));
fs.chmodSync(dataDir, 0o755);
const env = { ...process.env, PORT: String(port), CAIRN_DATA_DIR: dataDir, CAIRN_PUBLIC_URL: base, LOG_LEVEL: "warn", CAIRN_AGENT_JOIN_RATE_PER_MINUTE: "100000", CAIRN_DB_POOL_MAX: "20" };
const web = spawn(process.execPath, [...(values.profile ? ["--cpu-prof", `--cpu-prof-dir=${values.profile}`] : []), "bin/cairn.js", "web"], { env, stdio: ["ignore", "pipe", "inherit"] });
web.stdout.on("data", () => {});

const CLK_TCK = 100;
function cpuTicks(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
/** The postmaster (its command line names our data directory) and every backend it forked. */
function postgresPids(): number[] {
  const procs = fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return { pid: Number(pid), ppid: Number(stat.split(") ")[1]!.split(" ")[1]), cmd: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") };
      } catch {
        return null;
      }
    })
    .filter((p): p is { pid: number; ppid: number; cmd: string } => p !== null);
  const masters = new Set(procs.filter((p) => p.cmd.includes("postgres") && p.cmd.includes(dataDir)).map((p) => p.pid));
  return procs.filter((p) => masters.has(p.pid) || masters.has(p.ppid)).map((p) => p.pid);
}
/** PostgreSQL runs as several processes (and backends come and go): sum what each used while we watched. */
function watchPostgres() {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = () => {
    for (const pid of postgresPids()) {
      const t = cpuTicks(pid);
      if (!first.has(pid)) first.set(pid, t);
      last.set(pid, t);
    }
  };
  sample();
  const timer = setInterval(sample, 500);
  return () => {
    clearInterval(timer);
    sample();
    let sum = 0;
    for (const [pid, t] of last) sum += t - (first.get(pid) ?? 0);
    return sum / CLK_TCK;
  };
}

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99), max: s[s.length - 1]! };
}
const fmt = (x: number) => x.toFixed(1);

async function rest<T>(key: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/v1${route}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${json.error?.message}`);
  return json;
}

async function cairn(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ["bin/cairn.js", ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on("exit", r));
  return out;
}

const client = new ControlPlaneClient({ url: base, timeoutMs: 60_000 });
const claims = (i: number) => ({ node_name: `bench-${i}`, hostname: `bench-${i}.example.internal`, machine_id: null, facts: { os: "linux", arch: "x64" }, capabilities: { can_run_scan_worker: true, connectors: ["scan.mcp_config"] }, agent_version: "bench" });

/** Redeems `n` join requests at once (fresh keys), approves them in batches, fetches every identity. */
async function enrollMany(platformKey: string, clusterId: string, n: number, concurrency: number) {
  const token = await rest<{ token: string }>(platformKey, "POST", `/clusters/${clusterId}/join-tokens`, { max_uses: Math.min(1000, n), ttl_seconds: 3600 });
  const joined: { api: EnrollmentApi; key: ReturnType<typeof generateNodeKey>; requestId: string }[] = [];
  const joinMs: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const key = generateNodeKey();
        const api = new EnrollmentApi(client, key);
        const s = performance.now();
        const answer = await api.join(token.token, claims(i));
        joinMs.push(performance.now() - s);
        joined.push({ api, key, requestId: answer.request_id });
      }
    }),
  );
  const joinWall = performance.now() - t0;
  const approveMs: number[] = [];
  for (let i = 0; i < joined.length; i += 100) {
    const s = performance.now();
    await rest(platformKey, "POST", "/join-requests/approve", { ids: joined.slice(i, i + 100).map((j) => j.requestId) });
    approveMs.push(performance.now() - s);
  }
  const fetchMs: number[] = [];
  const nodes: NodeApi[] = [];
  next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, joined.length) }, async () => {
      while (next < joined.length) {
        const j = joined[next++]!;
        const s = performance.now();
        const status = await j.api.status(j.requestId);
        fetchMs.push(performance.now() - s);
        nodes.push(new NodeApi(client, { nodeId: status.node_id!, identityId: status.identity_id!, privateKey: j.key.privateKey }));
      }
    }),
  );
  return { nodes, join: stats(joinMs), joinWall, approve: stats(approveMs), fetch: stats(fetchMs), total: performance.now() - t0 };
}

const report = (): HeartbeatReport => ({
  status: "healthy",
  agent_version: "bench",
  snapshot_version: 1,
  capabilities: { can_run_scan_worker: true, connectors: ["scan.mcp_config"], job_types: ["source.collect"], max_concurrency: 2 },
  workloads: [{ type: "scan-worker", state: "idle", version: "bench", detail: { claimed: 0, succeeded: 0, failed: 0 } }],
  running_jobs: [],
});

try {
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${base}/readyz`).then((r) => r.status === 200).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const platformKey = (JSON.parse(await cairn(["admin", "api-key", "create", "--platform", "--high-risk", "--json"])) as { api_key: string }).api_key;
  const cluster = await rest<{ cluster_id: string }>(platformKey, "POST", "/clusters", { slug: "bench", name: "Benchmark" });

  // 1. 100 concurrent enrollments.
  const burst = await enrollMany(platformKey, cluster.cluster_id, ENROLLMENTS, ENROLLMENTS);
  console.log(`\n${ENROLLMENTS} concurrent enrollments`);
  console.log(`  join (redeem + proof of possession + pending request): p50 ${fmt(burst.join.p50)} ms, p95 ${fmt(burst.join.p95)} ms, max ${fmt(burst.join.max)} ms; all ${ENROLLMENTS} in ${fmt(burst.joinWall)} ms`);
  console.log(`  one batch approval (step-up key; nodes, memberships, ${ENROLLMENTS} certificates): ${fmt(burst.approve.max)} ms`);
  console.log(`  certificate fetch by the waiting agents: p50 ${fmt(burst.fetch.p50)} ms, p95 ${fmt(burst.fetch.p95)} ms`);
  console.log(`  token to certificate for all ${ENROLLMENTS}: ${fmt(burst.total)} ms`);

  // 2. 1,000 agents heartbeating.
  const rest900 = await enrollMany(platformKey, cluster.cluster_id, AGENTS - burst.nodes.length, 50);
  const agents = [...burst.nodes, ...rest900.nodes];
  console.log(`\n${agents.length} agents enrolled; heartbeating every ${INTERVAL} s, measured for ${SECONDS} s after a 20 s warm-up…`);
  // Warm-up, not measured: one round at once (first heartbeats write capability rows and audit the first health
  // change), then WARMUP seconds at the normal rate so the measurement starts from a steady state.
  await Promise.all(agents.map((a) => a.heartbeat(report())));
  const WARMUP = 20;
  const latencies: number[] = [];
  const windows = new Map<number, number[]>();
  let errors = 0;
  const t0 = performance.now();
  const tMeasure = t0 + WARMUP * 1000;
  const end = tMeasure + SECONDS * 1000;
  let stopPg: () => number = () => 0;
  let webTicks0 = 0;
  const startMeasuring = setTimeout(() => {
    stopPg = watchPostgres();
    webTicks0 = cpuTicks(web.pid!);
  }, WARMUP * 1000);
  await Promise.all(
    agents.map(async (a) => {
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL * 1000));
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await a.heartbeat(report());
          const ms = performance.now() - s;
          if (s >= tMeasure) {
            latencies.push(ms);
            const w = Math.floor((s - tMeasure) / 10_000);
            windows.set(w, [...(windows.get(w) ?? []), ms]);
          }
        } catch {
          if (s >= tMeasure) errors++;
        }
        const wait = INTERVAL * 1000 - (performance.now() - s);
        if (performance.now() + wait >= end) break;
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      }
    }),
  );
  clearTimeout(startMeasuring);
  const wall = (performance.now() - tMeasure) / 1000;
  const webCpu = (cpuTicks(web.pid!) - webTicks0) / CLK_TCK;
  const pgCpu = stopPg();
  const hb = stats(latencies);
  console.log(`  heartbeats: ${hb.n} in ${fmt(wall)} s (${fmt(hb.n / wall)}/s), errors ${errors}`);
  console.log(`  latency: p50 ${fmt(hb.p50)} ms, p95 ${fmt(hb.p95)} ms, p99 ${fmt(hb.p99)} ms, max ${fmt(hb.max)} ms`);
  console.log(`  p50/p95 by 10 s window: ${[...windows.keys()].sort((a, b) => a - b).map((w) => { const x = stats(windows.get(w)!); return `${fmt(x.p50)}/${fmt(x.p95)}`; }).join(", ")} ms`);
  console.log(`  CPU: web process ${fmt((100 * webCpu) / wall)}% of one core, PostgreSQL ${fmt((100 * pgCpu) / wall)}% of one core (${os.cpus().length} cores; load average ${os.loadavg()[0]!.toFixed(2)})`);
} finally {
  web.kill("SIGTERM");
  await new Promise((r) => web.on("exit", r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
