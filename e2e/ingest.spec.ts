// Journey: a CI job pushes a CycloneDX document with its API key (plain fetch, as curl would); the operator watches
// the receipt reach done on the Receipts page, opens it, downloads the raw document and opens the finding it
// produced. The push source's own page shows its last-ingest health and its finding, and offers no Run now or
// schedule (the API refuses both). A truncated document fails its receipt with a JSON pointer. An endpoint's fleet
// sync shows on Fleet.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { credentials, loginAsOwner } from "./support/login";

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../server/ingest/fixtures");
const MCP_FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../server/connectors/mcp-config/fixtures");

function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

async function api(baseURL: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseURL}${p}`, {
    method,
    headers: { authorization: `Bearer ${credentials().api_key}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test("a pushed CycloneDX document reaches done on the Receipts page and its finding opens", async ({ page, baseURL }, testInfo) => {
  const errors = watchForErrors(page);
  await loginAsOwner(page);

  const created = await api(baseURL!, "POST", "/v1/sources", { kind: "ingest.result_push", display_name: "Release SBOM" });
  expect(created.status).toBe(201);
  const sourceId = created.body.source_id as string;

  const document = fs.readFileSync(path.join(FIXTURES, "third-party/cyclonedx/CycloneDX__specification__valid-vulnerability-1.5.cdx.json"), "utf8");
  const pushed = await api(baseURL!, "POST", `/v1/results/push?source_id=${sourceId}`, document, { "idempotency-key": "release-2026-11-23" });
  expect(pushed.status).toBe(202);
  const receiptId = pushed.body.receipt_id as string;

  await page.goto(`/receipts?source_id=${sourceId}`);
  await expect(page).toHaveTitle("Receipts · Cairn");
  const row = page.locator(`[data-testid="receipt-row"][data-receipt-id="${receiptId}"]`);
  await expect(row).toBeVisible();
  // The list refreshes itself until the push settles.
  await expect(row.getByTestId("receipt-status")).toHaveText("done", { timeout: 30_000 });
  await expect(row).toContainText("1 component");
  await expect(page.getByTestId("ingest-health-status")).toHaveText("Healthy");
  await page.screenshot({ path: testInfo.outputPath("receipts.png"), fullPage: true });

  await row.getByTestId("receipt-link").click();
  await expect(page).toHaveURL(new RegExp(`/receipts/${receiptId}$`));
  await expect(page.getByTestId("page-receipt")).toHaveAttribute("data-status", "done");
  await expect(page.getByTestId("receipt-timeline").locator('[data-reached="true"]')).toHaveCount(5);
  await expect(page.getByTestId("receipt-sha256")).toHaveText(pushed.body.sha256 as string);
  await expect(page.getByTestId("receipt-counts").locator('[data-count="findings_created"] dd')).toHaveText("1");
  await expect(page.getByTestId("receipt-raw-download")).toHaveAttribute("href", `/v1/results/receipts/${receiptId}/raw`);
  await page.screenshot({ path: testInfo.outputPath("receipt.png"), fullPage: true });
  const raw = await page.request.get(`/v1/results/receipts/${receiptId}/raw`);
  expect(await raw.text()).toBe(document);

  const finding = page.getByTestId("receipt-finding-link").first();
  await expect(finding).toContainText("SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111");
  await finding.click();
  await expect(page).toHaveURL(/\/findings\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("finding-rule")).toHaveText("SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111");
  // Its provenance graph: finding → evidence (the pushed document) → job → run (trigger push) → source.
  const graph = page.getByTestId("provenance-graph");
  for (const type of ["finding", "evidence", "job", "run", "source"]) await expect(graph.getByTestId(`prov-node-${type}`).first()).toBeVisible();
  const findingUrl = page.url();
  await graph.getByTestId("prov-node-source").getByTestId("prov-node-link").click();
  await expect(page.getByTestId("page-source")).toHaveAttribute("data-source-id", sourceId);
  await page.goto(findingUrl);

  // Re-pushing with the same key answers with the first receipt.
  const again = await api(baseURL!, "POST", `/v1/results/push?source_id=${sourceId}`, document, { "idempotency-key": "release-2026-11-23" });
  expect(again.body).toMatchObject({ receipt_id: receiptId, duplicate: true });

  // The source's page: last-ingest health, its finding, and no Run now or schedule, with the reason.
  const route = `POST /v1/results/push?source_id=${sourceId}`;
  const refused = await api(baseURL!, "POST", `/v1/sources/${sourceId}/run`);
  expect(refused.status).toBe(422);
  expect((refused.body.error as { message: string }).message).toContain(`This source receives results by push: ${route}`);
  await page.goto(`/sources/${sourceId}`);
  await expect(page.getByTestId("ingest-health-status")).toHaveText("Healthy");
  await expect(page.getByTestId("source-push-only")).toContainText(`This source receives results by push: ${route}`);
  await expect(page.getByTestId("run-now")).toBeDisabled();
  await expect(page.getByTestId("run-now")).toHaveAttribute("title", new RegExp(`^This source receives results by push: POST /v1/results/push\\?source_id=${sourceId}`));
  await expect(page.getByTestId("source-findings-table").getByTestId("finding-row")).toHaveCount(1);
  await expect(page.getByTestId("source-findings-table")).toContainText("SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111");
  await page.screenshot({ path: testInfo.outputPath("push-source.png"), fullPage: true });
  await page.getByTestId("tab-schedules").click();
  await expect(page.getByTestId("add-schedule")).toBeDisabled();
  await expect(page.getByTestId("add-schedule")).toHaveAttribute("title", /takes no schedules|not run by hand or on a schedule/);
  await page.getByTestId("source-receipts-link").click();
  await expect(page).toHaveURL(new RegExp(`/receipts\\?source_id=${sourceId}$`));
  await expect(page.locator(`[data-testid="receipt-row"][data-receipt-id="${receiptId}"]`)).toBeVisible();
  expect(errors).toEqual([]);
});

test("a truncated document fails its receipt and says where", async ({ page, baseURL }) => {
  await loginAsOwner(page);
  const created = await api(baseURL!, "POST", "/v1/sources", { kind: "ingest.result_push", display_name: "Broken uploads" });
  const sourceId = created.body.source_id as string;
  const document = fs.readFileSync(path.join(FIXTURES, "generated/npm-sbom.cdx.json"), "utf8");
  const pushed = await api(baseURL!, "POST", `/v1/results/push?source_id=${sourceId}`, document.slice(0, 5000), { "idempotency-key": "broken-1" });
  await page.goto(`/receipts/${pushed.body.receipt_id as string}`);
  await expect(page.getByTestId("page-receipt")).toHaveAttribute("data-status", "failed", { timeout: 30_000 });
  await expect(page.getByTestId("receipt-error")).toContainText("ends early");
  await expect(page.getByTestId("receipt-error-where")).toContainText("/components/");
});

test("a fleet sync shows the endpoint with last seen and its MCP servers", async ({ page, baseURL }, testInfo) => {
  await loginAsOwner(page);
  const created = await api(baseURL!, "POST", "/v1/sources", { kind: "ingest.fleet_sync", display_name: "Developer laptops" });
  const sourceId = created.body.source_id as string;
  const config = JSON.parse(fs.readFileSync(path.join(MCP_FIXTURES, "cursor/0xlawrence__ainews_app.json"), "utf8")) as Record<string, unknown>;
  const synced = await api(baseURL!, "POST", `/v1/fleet/sync?source_id=${sourceId}`, { hostname: "dev-laptop-7", os: { name: "macOS", version: "15.1", arch: "arm64" }, agent_version: "2.0.1", mcp_configs: [{ path: "/Users/dev/.cursor/mcp.json", content: config }] }, { "idempotency-key": "sync-1" });
  expect(synced.status).toBe(202);
  await expect.poll(async () => (await api(baseURL!, "GET", `/v1/results/receipts/${synced.body.receipt_id as string}`)).body.status, { timeout: 30_000 }).toBe("done");
  await page.goto("/fleet");
  await expect(page).toHaveTitle("Fleet · Cairn");
  const row = page.getByTestId("endpoint-row").filter({ hasText: "dev-laptop-7" });
  await expect(row).toContainText("macOS 15.1");
  await expect(row).toContainText("2.0.1");
  await row.getByTestId("endpoint-link").click();
  await expect(page.getByTestId("endpoint-last-seen")).not.toHaveText("—");
  await expect(page.getByTestId("endpoint-servers").locator("tbody tr")).not.toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("endpoint.png"), fullPage: true });
});
