// scan.repo and custom sources through the normal pipeline: created with the sources procedures (scope validated by
// the connector), run by the source.collect handler, committed — the run succeeds, the connectors' artifacts become
// signed evidence that verifies, and their findings are materialized.
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
