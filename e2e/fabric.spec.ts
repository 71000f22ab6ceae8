// Journey: the platform owner builds the fabric in the browser with a real node agent. A cluster and a join token (the
// secret shown once) → a real `cairn agent enroll` redeems it → the join request shows verified apart from claimed →
// approval asks for a passkey step-up → `cairn agent run` heartbeats and the node shows healthy → scan-worker is
// assigned for the e2e organization → the agent claims and completes that organization's scan → the owner revokes the
// node → the agent's next request is refused, it exits 3, and a restarted agent is refused before it claims anything.
// Then an organization admin sees only the safe status, never topology or trust material.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { credentials, loginAsOwner } from "./support/login";

const root = path.resolve(import.meta.dirname, "..");
// Two MCP servers with nothing to flag (a pinned package, an https remote): the scan inventories them and adds no
// findings to the e2e organization, whose findings other journeys count.
const MCP_CONFIG = {
  mcpServers: {
    everything: { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything@2025.1.14"] },
    docs: { url: "https://mcp.example.com/sse" },
  },
};

interface Agent {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** A real `cairn agent …` process with its own data directory. */
function agent(args: string[], dataDir: string): Agent {
  const child = spawn(process.execPath, [path.join(root, "bin", "cairn.js"), "agent", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", NODE_ENV: "test", LOG_LEVEL: "info", CAIRN_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/** Expected refusals the page handles itself (a step-up asked for), which Chromium logs. */
const REFUSED = /status of 4(12|28)/;

async function confirmWithPasskey(page: Page) {
  const dialog = page.getByTestId("step-up-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Use passkey" }).click();
  await expect(dialog).toHaveCount(0);
}

/** Either the step-up dialog shows (then confirm it) or the result appears straight away (a recent step-up still holds). */
async function maybeStepUp(page: Page, done: ReturnType<Page["getByTestId"]>) {
  const dialog = page.getByTestId("step-up-dialog");
  await expect(dialog.or(done).first()).toBeVisible();
  if (await dialog.isVisible()) await confirmWithPasskey(page);
  await expect(done).toBeVisible();
}

/** Removes a passkey this journey registered, so later journeys find the owner as they expect. */
async function removePasskey(page: Page, name: string) {
  await page.goto("/settings/passkeys");
  const row = page.getByTestId("passkey-row").filter({ hasText: name });
  await row.getByTestId("passkey-remove").click();
  await row.getByTestId("passkey-remove-confirm").click();
  await maybeStepUp(page, page.getByTestId("passkeys-notice").filter({ hasText: `Removed “${name}”.` }));
}

async function tenantApi<T>(request: APIRequestContext, method: "GET" | "POST", route: string, body?: unknown): Promise<T> {
  const res = await request.fetch(`/v1${route}`, { method, headers: { authorization: `Bearer ${credentials().api_key}` }, data: body });
  const json = (await res.json()) as T;
  expect(res.ok(), `${method} ${route}: ${res.status()} ${JSON.stringify(json)}`).toBe(true);
  return json;
}

/** A new admin of the e2e organization (not a platform owner), signed in on a browser context of their own. */
async function signInOrgAdmin(browser: Browser, request: APIRequestContext, baseURL: string) {
  const email = `fabric-org-admin-${Date.now()}@example.com`;
  const added = await tenantApi<{ one_time_password: string }>(request, "POST", "/members", { email, role: "admin" });
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const errors = watchForErrors(page);
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(added.one_time_password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/account\/password/);
  await page.getByLabel("Current password").fill(added.one_time_password);
  await page.getByLabel("New password", { exact: true }).fill("an-org-admin-passphrase");
  await page.getByLabel("Repeat new password").fill("an-org-admin-passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("user-menu")).toContainText(email);
  return { context, page, errors };
}

const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });

test.describe.configure({ mode: "serial" });

const dirs: string[] = [];
const agents: Agent[] = [];
const tempDir = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  dirs.push(d);
  return d;
};

test.afterAll(() => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill("SIGKILL");
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test("a platform owner enrolls a real agent, approves it with a step-up, has it scan for an organization, and revokes it", async ({ page, browser, request }, testInfo) => {
  test.setTimeout(240_000);
  const errors = watchForErrors(page);
  const base = testInfo.project.use.baseURL!;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  await loginAsOwner(page);
  await page.goto("/settings/passkeys");
  await page.getByTestId("new-passkey-name").fill("Fabric laptop");
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkeys-notice")).toHaveText("Added “Fabric laptop”.");

  // The Fabric section, empty at first, leads to creating a cluster.
  await page.getByTestId("nav").getByRole("link", { name: "Fabric", exact: true }).click();
  await expect(page).toHaveTitle("Fabric · Cairn");
  await expect(page.getByTestId("fabric-nav")).toBeVisible();
  await page.getByRole("link", { name: "Create the first cluster" }).click();
  const create = page.getByTestId("create-cluster");
  await create.getByLabel("Slug").fill("edge");
  await create.getByLabel("Name", { exact: true }).fill("Edge sites");
  await create.getByLabel("Region").fill("branch offices");
  await page.getByTestId("create-cluster-submit").click();
  await expect(page).toHaveURL(/\/fabric\/clusters\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Edge sites");
  await expect(page.getByTestId("cluster-authority")).toHaveText("Healthy");

  // A one-use join token: high-risk, so the passkey dialog may ask; the secret is shown once with the enroll command.
  await page.getByTestId("cluster-join-tokens").click();
  await expect(page).toHaveTitle("Join tokens · Cairn");
  const tokenForm = page.getByTestId("create-join-token");
  await tokenForm.getByLabel("Valid for").selectOption({ label: "10 minutes" });
  await tokenForm.getByLabel("Max uses").fill("1");
  await tokenForm.getByLabel("Description").fill("e2e branch scanner");
  await page.getByTestId("create-join-token-submit").click();
  await maybeStepUp(page, page.getByTestId("new-join-token"));
  const token = (await page.getByTestId("new-join-token-value").textContent())!.trim();
  expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{32}$/);
  await expect(page.getByTestId("enroll-command")).toHaveText(`cairn agent enroll --url ${base} --token ${token} --cluster edge`);
  const tokenRow = page.locator(`[data-testid="join-token-row"][data-token-id="${token.split(".")[0]}"]`);
  await expect(tokenRow.getByTestId("join-token-state")).toHaveText("Active");
  await expect(tokenRow).toContainText("0 of 1");
  // The list never carries the secret.
  await expect(page.getByTestId("join-tokens-table")).not.toContainText(token.split(".")[1]!);
  await page.screenshot({ path: testInfo.outputPath("join-token.png"), fullPage: true });

  // A real agent redeems it and waits for approval.
  const stateDir = tempDir("cairn-e2e-agent-state-");
  const agentData = tempDir("cairn-e2e-agent-data-");
  const enrolling = agent(["enroll", "--url", base, "--token", token, "--state-dir", stateDir, "--cluster", "edge", "--name", "e2e-branch"], agentData);
  agents.push(enrolling);
  await expect.poll(() => enrolling.output(), { timeout: 60_000 }).toContain("Waiting for a platform owner to approve");

  // A fresh session holds no step-up, so approval must ask for one.
  await page.getByTestId("user-menu").locator("summary").click();
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login/);
  await loginAsOwner(page);
  await page.goto("/fabric");
  await expect(page.getByTestId("count-pending-requests")).toHaveText("1");
  await page.getByTestId("count-pending-requests").click();
  await expect(page).toHaveTitle("Join requests · Cairn");
  const requestCard = page.getByTestId("join-request").filter({ hasText: "e2e-branch" });
  await expect(requestCard.getByTestId("join-request-status")).toHaveText("Pending");
  // Verified by the control plane, apart from what the node claims.
  const verified = requestCard.getByTestId("verified-facts");
  const claimed = requestCard.getByTestId("claimed-facts");
  await expect(verified.getByTestId("verified-token")).toHaveAttribute("data-ok", "true");
  await expect(verified.getByTestId("verified-token")).toContainText(token.split(".")[0]!);
  await expect(verified.getByTestId("verified-proof")).toHaveAttribute("data-ok", "true");
  await expect(verified.getByTestId("verified-binding-hostname")).toContainText("not bound");
  await expect(verified.getByTestId("verified-key-fingerprint")).toContainText(/[0-9a-f]{64}/);
  await expect(verified.getByTestId("verified-source-address")).not.toContainText("unknown");
  await expect(claimed.getByTestId("claimed-node-name")).toContainText("e2e-branch");
  await expect(claimed.getByTestId("claimed-hostname")).toContainText(os.hostname());
  await expect(claimed.getByTestId("claimed-capabilities")).toContainText("can run scan worker");
  await expect(verified).not.toContainText("e2e-branch");
  await page.screenshot({ path: testInfo.outputPath("join-request.png"), fullPage: true });

  await requestCard.getByTestId("approve-request").click();
  await confirmWithPasskey(page);
  await expect(page.getByTestId("join-requests-approved")).toContainText("e2e-branch");
  expect(await enrolling.exited).toBe(0);
  expect(enrolling.output()).toMatch(/Enrolled as node [0-9a-f-]{36} in cluster edge/);
  await page.getByTestId("approved-node-link").click();
  await expect(page).toHaveURL(/\/fabric\/nodes\/[0-9a-f-]{36}$/);
  const nodeId = page.url().split("/").pop()!;
  await expect(page.getByTestId("node-health")).toHaveText("Never seen");

  // The agent runs: signed heartbeats make the node healthy (the page refreshes itself).
  const running = agent(["run", "--state-dir", stateDir], agentData);
  agents.push(running);
  await expect(page.getByTestId("node-health").first()).toHaveText("Healthy", { timeout: 60_000 });
  await expect(page.getByTestId("node-version")).not.toHaveText("—");
  await expect(page.getByTestId("node-capabilities")).toContainText("can run scan worker");
  await expect(page.getByTestId("node-no-roles")).toBeVisible();
  await expect(page.getByTestId("identity-serial")).toHaveText(/\S{8,}/);

  // scan-worker for the e2e organization (high-risk; a recent step-up may still hold).
  const assign = page.getByTestId("assign-role");
  await assign.getByLabel("Role").selectOption("scan-worker");
  const tenantOption = await assign.getByLabel("For").locator("option", { hasText: `(${credentials().tenant_slug})` }).getAttribute("value");
  await assign.getByLabel("For").selectOption(tenantOption!);
  await page.getByTestId("assign-role-submit").click();
  const role = page.locator(`[data-testid="node-role"][data-role="scan-worker"][data-tenant="${credentials().tenant_slug}"]`);
  await maybeStepUp(page, role);
  const workload = page.locator('[data-testid="node-workload"][data-type="scan-worker"]');
  await expect(workload).toHaveAttribute("data-in-sync", "true", { timeout: 60_000 });
  await expect(workload.getByTestId("workload-reported")).toHaveText(/idle|running/);
  await page.screenshot({ path: testInfo.outputPath("node-detail.png"), fullPage: true });

  // The organization's scan runs on the node: a source over a copied MCP config, run now through the API.
  const scanDir = tempDir("cairn-e2e-agent-scan-");
  fs.mkdirSync(path.join(scanDir, ".cursor"));
  fs.writeFileSync(path.join(scanDir, ".cursor", "mcp.json"), JSON.stringify(MCP_CONFIG, null, 2));
  const source = await tenantApi<{ source_id: string }>(request, "POST", "/sources", { kind: "scan.mcp_config", display_name: "branch office laptops", scope: { paths: [scanDir] } });
  const run = await tenantApi<{ run_id: string; job_id: string }>(request, "POST", `/sources/${source.source_id}/run`);
  await expect
    .poll(async () => (await tenantApi<{ status: string }>(request, "GET", `/runs/${run.run_id}`)).status, { timeout: 90_000 })
    .toMatch(/^(succeeded|failed|cancelled|timed_out)$/);
  const finished = await tenantApi<{ stages: { collect: { status: string; items: number } } }>(request, "GET", `/runs/${run.run_id}`);
  expect(finished.stages.collect).toMatchObject({ status: "succeeded", items: 2 });
  await page.goto(`/runs/${run.run_id}`);
  await expect(page.getByTestId("page-run")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByTestId("live-log")).toContainText("collecting on the node (scan.mcp_config)");
  const reported = () => jsonLines(running.output()).filter((l) => l.msg === "job reported");
  await expect.poll(() => reported().map((l) => l.job)).toContain(run.job_id);
  expect(reported().find((l) => l.job === run.job_id)?.status).toBe("succeeded");

  // The overview counts it: one healthy node, its role covered, nothing pending.
  await page.goto("/fabric");
  await expect(page.getByTestId("count-nodes-healthy")).toHaveText("1 healthy");
  await expect(page.getByTestId("count-coverage-gaps")).toHaveText("0");
  await expect(page.getByTestId("count-pending-requests")).toHaveText("0");

  // The topology shows the cluster and the node, coloured by health, serving the organization.
  await page.getByTestId("fabric-nav").getByRole("link", { name: "Topology" }).click();
  await expect(page.getByTestId("topology-graph")).toBeVisible();
  await expect(page.getByTestId("topology-cluster")).toHaveAttribute("data-label", "Edge sites");
  await expect(page.locator('[data-testid="topology-node"][data-label="e2e-branch"]')).toHaveAttribute("data-state", "healthy");
  await expect(page.locator('[data-testid="topology-tenant"]')).toHaveAttribute("data-label", credentials().tenant_slug);
  await page.screenshot({ path: testInfo.outputPath("topology.png"), fullPage: true });

  // Trust: the cluster's CA and the node's certificate, public material only.
  await page.getByTestId("fabric-nav").getByRole("link", { name: "Trust & certificates" }).click();
  await expect(page.getByTestId("ca-fingerprint")).toContainText(/[0-9a-f]{64}/);
  await expect(page.locator('[data-testid="trust-certificate-row"][data-status="active"]')).toContainText("e2e-branch");
  const nodeKey = fs.readFileSync(path.join(stateDir, "node.key"), "utf8");
  expect(await page.content()).not.toContain(nodeKey.split("\n")[1]!);
  expect(await page.content()).not.toContain("PRIVATE KEY");

  // The organization's admin sees the endpoint that serves it, under an alias with its status, and nothing else.
  const org = await signInOrgAdmin(browser, request, base);
  await org.page.getByTestId("nav").getByRole("link", { name: "Fabric", exact: true }).click();
  const endpoint = org.page.getByTestId("fabric-endpoint-row");
  await expect(endpoint).toHaveCount(1);
  await expect(endpoint).toContainText("scan-worker");
  await expect(endpoint).toContainText("this organization only");
  await expect(endpoint).toContainText("healthy");
  const orgView = org.page.getByTestId("page-fabric-status");
  for (const secret of ["e2e-branch", nodeId, "Edge sites", "127.0.0.1"]) await expect(orgView).not.toContainText(secret);
  await expect(org.page.getByTestId("fabric-nav")).toHaveCount(0);
  await org.page.screenshot({ path: testInfo.outputPath("org-fabric-status.png"), fullPage: true });
  await org.page.goto("/fabric/topology");
  await expect(org.page.getByTestId("fabric-denied")).toContainText("Visible to platform owners");
  expect(org.errors).toEqual([]);
  await org.context.close();

  // Revoke: high-risk; the agent's next request is refused and it exits 3, saying why.
  await page.goto(`/fabric/nodes/${nodeId}`);
  const claimsBefore = jsonLines(running.output()).filter((l) => l.msg === "job reported").length;
  await page.getByTestId("revoke-node").click();
  await page.getByTestId("revoke-node-reason").fill("branch office closed");
  await page.getByTestId("revoke-node-confirm").click();
  await maybeStepUp(page, page.getByTestId("node-revoked"));
  await expect(page.getByTestId("node-health").first()).toHaveText("Revoked");
  await expect(page.getByTestId("node-no-roles")).toBeVisible();
  const exit = await Promise.race([running.exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 45_000))]);
  expect(exit).toBe(3);
  expect(running.output()).toMatch(/identity was revoked/);
  expect(running.output()).toContain("stopped claiming work");
  expect(jsonLines(running.output()).filter((l) => l.msg === "job reported")).toHaveLength(claimsBefore);

  // Started again, its first request is refused and it exits before any job reaches it; the overview then shows a
  // revoked node still calling.
  const again = agent(["run", "--state-dir", stateDir], agentData);
  agents.push(again);
  expect(await again.exited).toBe(3);
  expect(again.output()).toMatch(/revoked/);
  // (It may start from the snapshot on its disk, but no job reaches it: every log line about a job carries its id.)
  expect(jsonLines(again.output()).filter((l) => "job" in l)).toEqual([]);
  await page.goto("/fabric");
  await expect(page.getByTestId("risk-revoked-calling")).toContainText("Revoked node e2e-branch is still calling");
  await page.getByTestId("risk-revoked-calling").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/fabric/nodes/${nodeId}$`));
  await expect(page.locator('[data-testid="node-audit-event"][data-action="agent.request"][data-outcome="denied"]').first()).toContainText("node_revoked");
  await expect(page.locator('[data-testid="node-audit-event"][data-action="node_identity.revoke"]')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("node-revoked.png"), fullPage: true });
  await removePasskey(page, "Fabric laptop");

  expect(errors.filter((e) => !REFUSED.test(e))).toEqual([]);
});

test("after the revocation nothing serves the organization, and an organization admin is refused every platform view of the fabric", async ({ browser, request }, testInfo) => {
  const { context, page: admin, errors } = await signInOrgAdmin(browser, request, testInfo.project.use.baseURL!);
  await admin.getByTestId("nav").getByRole("link", { name: "Fabric", exact: true }).click();
  await expect(admin.getByTestId("page-fabric-status")).toBeVisible();
  await expect(admin.getByTestId("fabric-nav")).toHaveCount(0);
  // The node that served this organization was revoked: nothing serves it now.
  await expect(admin.getByTestId("empty-state")).toContainText("No endpoints serve this organization");

  for (const [route, what] of [
    ["/fabric/topology", "The topology"],
    ["/fabric/trust", "Trust material"],
    ["/fabric/nodes", "The node list"],
    ["/fabric/join-requests", "Join requests"],
    ["/fabric/join-tokens", "Join tokens"],
    ["/fabric/clusters", "The cluster list"],
    ["/fabric/roles", "Role assignments"],
  ] as const) {
    await admin.goto(route);
    await expect(admin.getByTestId("fabric-denied")).toContainText("Visible to platform owners");
    await expect(admin.getByTestId("fabric-denied")).toContainText(what);
    const html = await admin.content();
    expect(html).not.toContain("BEGIN CERTIFICATE");
    expect(html).not.toContain("e2e-branch");
    await expect(admin.getByTestId("topology-graph")).toHaveCount(0);
  }
  await admin.getByTestId("fabric-denied").getByRole("link").click();
  await expect(admin.getByTestId("page-fabric-status")).toBeVisible();
  // The server refuses the platform's views to this session as well (the pages only say so).
  const refused = await admin.request.get("/api/trpc/fabric.topology");
  expect(refused.status()).toBe(403);
  // The refused platform calls are expected 403s, which Chromium does not log for documents; nothing else may fail.
  expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  await context.close();
});

test("a partitioned cluster refuses approvals until recovered; then a selection of join requests is approved with one step-up", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const errors = watchForErrors(page);
  const base = testInfo.project.use.baseURL!;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await loginAsOwner(page);
  await page.goto("/settings/passkeys");
  await page.getByTestId("new-passkey-name").fill("Batch laptop");
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkeys-notice")).toHaveText("Added “Batch laptop”.");

  // One token for two hosts.
  await page.goto("/fabric/join-tokens");
  await page.getByTestId("create-join-token").getByLabel("Max uses").fill("2");
  await page.getByTestId("create-join-token-submit").click();
  await maybeStepUp(page, page.getByTestId("new-join-token"));
  const token = (await page.getByTestId("new-join-token-value").textContent())!.trim();
  const hosts = ["batch-1", "batch-2"].map((name) => {
    const a = agent(["enroll", "--url", base, "--token", token, "--state-dir", tempDir("cairn-e2e-batch-state-"), "--name", name], tempDir("cairn-e2e-batch-data-"));
    agents.push(a);
    return a;
  });
  for (const h of hosts) await expect.poll(() => h.output(), { timeout: 60_000 }).toContain("Waiting for a platform owner to approve");

  // A partitioned cluster refuses approvals until it is recovered; both changes are high-risk.
  const signInAgain = async () => {
    await page.getByTestId("user-menu").locator("summary").click();
    await page.getByTestId("sign-out").click();
    await loginAsOwner(page);
  };
  await signInAgain();
  await page.goto("/fabric/clusters");
  await page.locator('[data-testid="cluster-row"][data-slug="edge"]').getByRole("link").first().click();
  await page.getByTestId("mark-partitioned").click();
  await page.getByTestId("mark-partitioned-reason").fill("site link down");
  await page.getByTestId("mark-partitioned-confirm").click();
  await confirmWithPasskey(page);
  await expect(page.getByTestId("cluster-authority")).toHaveText("Partitioned");
  await expect(page.getByTestId("authority-reason")).toContainText("site link down");
  await page.goto("/fabric");
  await expect(page.locator('[data-testid="risk"][data-kind="cluster_authority"]')).toContainText("Cluster edge is partitioned (site link down)");
  await page.goto("/fabric/join-requests");
  await page.getByTestId("select-all-requests").check();
  await page.getByTestId("approve-selected").click();
  await expect(page.getByTestId("join-requests-error")).toContainText("Cluster edge is partitioned (site link down): it refuses to approve join requests until a platform owner recovers it");
  await expect(page.locator('[data-testid="join-request"][data-status="pending"]')).toHaveCount(2);
  await page.locator('[data-testid="join-request"]').first().getByRole("link", { name: "edge" }).click();
  await page.getByTestId("recover-cluster").click();
  await page.getByTestId("recover-cluster-reason").fill("link restored");
  await page.getByTestId("recover-cluster-confirm").click();
  await expect(page.getByTestId("cluster-authority")).toHaveText("Healthy");

  // A fresh session, so the batch needs a step-up: exactly one dialog for both.
  await signInAgain();
  await page.goto("/fabric/join-requests");
  await expect(page.locator('[data-testid="join-request"][data-status="pending"]')).toHaveCount(2);
  await page.getByTestId("select-all-requests").check();
  await expect(page.getByTestId("approve-selected")).toHaveText("Approve selected (2)");
  let dialogs = 0;
  page.on("response", (res) => {
    if (res.url().includes("passkeys.stepUpOptions")) dialogs++;
  });
  await page.getByTestId("approve-selected").click();
  await confirmWithPasskey(page);
  await expect(page.getByTestId("join-requests-approved")).toContainText("Approved 2 nodes");
  await expect(page.getByTestId("join-requests-approved")).toContainText("batch-1");
  await expect(page.getByTestId("join-requests-approved")).toContainText("batch-2");
  expect(dialogs).toBe(1);
  await expect(page.getByTestId("join-requests-empty")).toBeVisible();
  for (const h of hosts) expect(await h.exited).toBe(0);
  await page.goto("/fabric/join-requests?status=approved");
  await expect(page.locator('[data-testid="join-request"][data-status="approved"]')).toHaveCount(3);
  await removePasskey(page, "Batch laptop");
  // Besides the step-up answers, the one expected failure is the approval the partitioned cluster refused (409).
  expect(errors.filter((e) => !REFUSED.test(e) && !/status of 409/.test(e))).toEqual([]);
});
