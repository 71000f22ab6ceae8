// scan.repo and custom sources through the normal pipeline: created with the sources procedures (scope validated by
// the connector), run by the source.collect handler, committed — the run succeeds, the connectors' artifacts become
// signed evidence that verifies, and their findings are materialized. Then connectors that break their budgets or
// write unusable output, run by a real worker: the collect stage, the job and the run end as the budget says.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { callerAs, testRuntime } from "../../test/runtime.ts";
import { withTenant } from "../../db/tenant.ts";
import { evidence, jobs, runs } from "../../db/schema/index.ts";
import type { JobRow } from "../queue/enqueue.ts";
import type { Runtime } from "../runtime.ts";
import { bootstrapTenant, mintKey } from "../domain/tenants/bootstrap.service.ts";
import { sourceCollectHandler } from "../worker/handlers/source-collect.ts";
import type { JobContext, JobOutcome } from "../worker/handler.ts";
import { FilesystemEvidenceStore } from "../evidence/evidence-store.ts";
import { verifyEvidence } from "../evidence/evidence.service.ts";
import { registerConnector } from "./registry.ts";
import { repoConnector } from "./repo/repo.connector.ts";
import { customConnector } from "./custom/custom.connector.ts";
import { useCustomConnectorCatalog } from "./custom/catalog.ts";
import { startWorker } from "../worker/worker.ts";

registerConnector(repoConnector);
registerConnector(customConnector);

let t: TestDatabase;
let rt: Runtime;
let work: string;
let boot: Awaited<ReturnType<typeof bootstrapTenant>>;

beforeAll(async () => {
  t = await createTestDatabase();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-pipeline-test-"));
  fs.chmodSync(work, 0o755);
  rt = testRuntime(t, { CAIRN_DATA_DIR: path.join(work, "data") });
  boot = await bootstrapTenant(t.client, "pipes", { highRisk: true });
  useCustomConnectorCatalog(t.client);
});
afterAll(async () => {
  await t?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

const inTenant = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(t.client, boot.tenant_id, fn);

async function runSource(sourceId: string) {
  const api = await callerAs(rt, { apiKey: boot.api_key });
  const started = await api.sources.run({ id: sourceId });
  const job = await inTenant(async (tx) => (await tx.select().from(jobs).where(eq(jobs.id, started.job_id)))[0]!);
  const running: JobRow = { ...job, status: "running", attempts: 1 } as JobRow;
  const logs: string[] = [];
  const ctx: JobContext = {
    rt,
    job: running,
    signal: new AbortController().signal,
    log: (level, message) => logs.push(`${level}: ${message}`),
    redact: () => {},
    inTenant: (fn) => inTenant(fn),
  };
  const outcome = (await sourceCollectHandler.handler(ctx)) as JobOutcome;
  await inTenant((tx) => outcome.commit!(tx));
  const run = await inTenant(async (tx) => (await tx.select().from(runs).where(eq(runs.id, started.run_id)))[0]!);
  const rows = await inTenant((tx) => tx.select().from(evidence).where(eq(evidence.runId, started.run_id)));
  return { run, rows, outcome, logs };
}

describe("connectors in the pipeline", () => {
  it("a scan.repo source (local checkout) runs to success with its index as evidence", async () => {
    const repo = path.join(work, "repo");
    fs.mkdirSync(repo);
    fs.cpSync(path.resolve(import.meta.dirname, "repo/fixtures/npm-lockfile-v3"), repo, { recursive: true });
    fs.writeFileSync(path.join(repo, "deploy.sh"), `export GITLAB_TOKEN=gl${"pat-"}${"Zq3".repeat(8)}\n`);
    execFileSync("git", ["init", "--quiet", repo]);
    const api = await callerAs(rt, { apiKey: boot.api_key });
    const source = await api.sources.create({ kind: "scan.repo", display_name: "Local repo", scope: { paths: [repo] } });
    expect(source.status).toBe("active");
    const { run, rows, outcome } = await runSource(source.source_id);
    expect(run.status).toBe("succeeded");
    expect(outcome.result).toMatchObject({ findings: 1 });
    expect(rows.map((r) => r.kind).sort()).toEqual(["inventory", "repo_scan.index"]);
    const store = new FilesystemEvidenceStore(path.join(work, "data", "evidence"));
    for (const row of rows) expect((await verifyEvidence(t.client, store, row)).ok).toBe(true);
    const found = await t.owner.sql<{ rule: string }[]>`select rule from findings where tenant_id = ${boot.tenant_id} and rule like 'secret.%'`;
    expect(found.map((f) => f.rule)).toEqual(["secret.gitlab_token"]);
  });

  it("a custom source runs its allow-listed executable; the output's artifacts become evidence", async () => {
    const file = path.join(work, "hosts.sh");
    fs.writeFileSync(
      file,
      `#!/bin/sh\necho "inventory of $(cat "$CAIRN_INPUT_FILE")" > "$CAIRN_WORK_DIR/raw.txt"\ncat > "$CAIRN_OUTPUT_FILE" <<'JSON'\n{"results": {"hosts": 1}, "graph": {"assets": [{"id": "host:web-1", "type": "host", "name": "web-1"}], "findings": [{"fingerprint": "hosts-web-1-ssh", "rule": "custom.ssh_open", "severity": "medium", "title": "SSH open to the world", "asset": "host:web-1", "where": "web-1:22"}]}, "artifacts": [{"kind": "custom.raw", "content_type": "text/plain", "path": "raw.txt"}]}\nJSON\n`,
      { mode: 0o755 },
    );
    const owner = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: true })).api_key });
    await owner.connectors.create({ name: "hosts", display_name: "Hosts", executable_path: file });
    const api = await callerAs(rt, { apiKey: boot.api_key });
    const source = await api.sources.create({ kind: "custom", display_name: "Hosts", scope: { connector: "hosts", input: { site: "eu-1" } } });
    const { run, rows } = await runSource(source.source_id);
    expect(run.status).toBe("succeeded");
    expect(run.stages.collect).toMatchObject({ status: "succeeded", items: 1 });
    expect(rows.map((r) => r.kind).sort()).toEqual(["custom.raw", "inventory"]);
    const store = new FilesystemEvidenceStore(path.join(work, "data", "evidence"));
    const raw = rows.find((r) => r.kind === "custom.raw")!;
    expect((await store.get(raw.storageUri)).toString()).toContain('"input":{"site":"eu-1"}');
    const found = await t.owner.sql<{ rule: string }[]>`select rule from findings where tenant_id = ${boot.tenant_id} and rule = 'custom.ssh_open'`;
    expect(found).toHaveLength(1);
  });
});

describe("connector budgets through the worker", () => {
  async function runToTheEnd(name: string, file: string, limits: Record<string, unknown>) {
    const owner = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: true })).api_key });
    await owner.connectors.create({ name, display_name: name, executable_path: file, ...limits });
    const api = await callerAs(rt, { apiKey: boot.api_key });
    const source = await api.sources.create({ kind: "custom", display_name: name, scope: { connector: name } });
    const started = await api.sources.run({ id: source.source_id });
    const worker = await startWorker(rt, { concurrency: 1, handlers: [sourceCollectHandler], pollMs: 100 });
    try {
      for (let i = 0; i < 300; i++) {
        const run = await inTenant(async (tx) => (await tx.select().from(runs).where(eq(runs.id, started.run_id)))[0]!);
        if (run.status !== "queued" && run.status !== "running") {
          const job = await inTenant(async (tx) => (await tx.select().from(jobs).where(eq(jobs.id, started.job_id)))[0]!);
          const src = await api.sources.get({ id: source.source_id });
          return { run, job, src, view: await api.runs.get({ id: started.run_id }) };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`run ${started.run_id} did not finish`);
    } finally {
      await worker.stop();
    }
  }

  it("a connector over its time budget ends the collect stage, the job and the run as timed_out", async () => {
    const file = path.join(work, "sleeps.sh");
    fs.writeFileSync(file, "#!/bin/sh\nsleep 1000\n", { mode: 0o755 });
    const { run, job, src, view } = await runToTheEnd("sleeps", file, { timeout_seconds: 1 });
    expect(run.status).toBe("timed_out");
    expect(job).toMatchObject({ status: "timed_out", attempts: 1 });
    expect(run.stages.collect.status).toBe("timed_out");
    expect(run.stages.collect.errors).toEqual([{ message: "custom connector sleeps ran longer than its time budget of 1 s and was stopped" }]);
    expect(run.error).toBe("custom connector sleeps ran longer than its time budget of 1 s and was stopped");
    expect(src.last_outcome).toBe("timed_out");
    expect(view.stages.collect.status).toBe("timed_out");
  });

  it("a connector over its output budget fails the job and the run, and its collect stage says too_large", async () => {
    const file = path.join(work, "floods.sh");
    fs.writeFileSync(file, "#!/bin/sh\nyes 'flood flood flood flood'\n", { mode: 0o755 });
    const { run, job, src, view } = await runToTheEnd("floods", file, { max_output_bytes: 1024 * 1024 });
    expect(run.status).toBe("failed");
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    expect(run.stages.collect.status).toBe("too_large");
    expect(run.stages.collect.errors[0]!.message).toMatch(/^custom connector floods produced more than 1048576 bytes of output \(its output budget\) and was stopped$/);
    expect(src.last_outcome).toBe("failed");
    // The REST/tRPC shape carries the new stage status too.
    expect(view.stages.collect.status).toBe("too_large");
  });

  it("a connector's unusable output fails the run with a stage error that says where", async () => {
    const file = path.join(work, "broken.sh");
    fs.writeFileSync(file, `#!/bin/sh\nprintf '{\\n  "graph": {\\n    "assets": [1, 2,, 3]\\n  }\\n}\\n' > "$CAIRN_OUTPUT_FILE"\n`, { mode: 0o755 });
    const { run, job } = await runToTheEnd("broken", file, {});
    expect(run.status).toBe("failed");
    expect(job.status).toBe("failed");
    expect(run.stages.collect.status).toBe("failed");
    expect(run.stages.collect.errors).toHaveLength(1);
    expect(run.stages.collect.errors[0]).toMatchObject({ where: "output.json:3:21" });
    expect(run.stages.collect.errors[0]!.message).toMatch(/^custom connector broken wrote an output file that is /);
    expect(run.stages.collect.errors[0]!.message).not.toContain("(at output.json");
  });
});
