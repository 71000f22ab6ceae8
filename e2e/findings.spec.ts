// Journey: an admin registers an MCP-config source over a directory holding a real Cursor config with an inline
// secret, runs it, finds the finding on the Findings page, opens it, and follows its provenance graph back to the
// source, whose page counts its open findings. The graph's evidence node opens the evidence: verify and download.
// Then a policy is written and bound in audit mode from the Policies page.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { loginAsOwner } from "./support/login";

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../server/connectors/mcp-config/fixtures");

function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

async function shot(page: Page, file: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
}

test("a run's inline secret becomes a finding whose provenance leads back to the source", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const errors = watchForErrors(page);
  // A project laid out as Cursor keeps it: .cursor/mcp.json with a Supabase access token written inline.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-e2e-findings-"));
  fs.mkdirSync(path.join(dir, "app", ".cursor"), { recursive: true });
  fs.copyFileSync(path.join(FIXTURES, "cursor", "0xlawrence__ainews_app.json"), path.join(dir, "app", ".cursor", "mcp.json"));

  try {
    await loginAsOwner(page);

    // The source, over that directory, run now.
    await page.goto("/sources/new");
    await page.getByLabel("Kind").selectOption("scan.mcp_config");
    await page.getByLabel("Display name").fill("App repo MCP config");
    await page.getByTestId("source-scope").fill(JSON.stringify({ paths: [dir] }));
    await page.getByTestId("source-submit").click();
    await expect(page.getByTestId("page-source")).toBeVisible();
    const sourceId = (await page.getByTestId("page-source").getAttribute("data-source-id"))!;
    await page.getByTestId("run-now").click();
    await page.getByTestId("run-now-link").click();
    await expect(page.getByTestId("page-run")).toBeVisible();
    await expect(page.getByTestId("run-status").first()).toHaveText("Succeeded", { timeout: 30_000 });
    await expect(page.getByTestId("stage-card-evaluate")).toHaveAttribute("data-status", "succeeded");

    // Findings: the inline secret and the unpinned package of this source (other journeys' sources have their
    // own), filterable by rule.
    await page.getByTestId("nav").getByRole("link", { name: "Findings", exact: true }).click();
    await expect(page).toHaveTitle("Findings · Cairn");
    await page.getByLabel("Source").selectOption(sourceId);
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(new RegExp(`source_id=${sourceId}`));
    await expect(page.getByTestId("finding-row")).toHaveCount(2);
    await page.getByLabel("Rule").selectOption("mcp.inline_secret");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/rule=mcp.inline_secret/);
    const row = page.getByTestId("finding-row");
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId("finding-severity")).toHaveText("High");
    await expect(row.getByTestId("finding-status")).toHaveText("Open");
    await expect(row).toContainText("SUPABASE_ACCESS_TOKEN");
    await expect(row).toContainText("App repo MCP config");
    await shot(page, testInfo.outputPath("findings.png"));

    // One finding: what, where, and its evidence; never the secret itself.
    await row.getByTestId("finding-link").click();
    await expect(page.getByTestId("page-finding")).toBeVisible();
    const findingUrl = page.url();
    await expect(page.getByTestId("finding-rule")).toHaveText("mcp.inline_secret");
    await expect(page.getByTestId("finding-where")).toContainText(".cursor/mcp.json#/mcpServers/supabase");
    await expect(page.getByTestId("finding-details")).toContainText('"key": "SUPABASE_ACCESS_TOKEN"');
    await expect(page.getByTestId("finding-evidence-row")).toHaveCount(2);
    await expect(page.locator("body")).not.toContainText("sbp_4385c3dabf1abf1dfe43e7b4cdf1ca6ae2930c89");

    // The provenance graph, drawn in the browser: finding → evidence → job → run → source, and who asked.
    const graph = page.getByTestId("provenance-graph");
    await expect(graph).toBeVisible();
    for (const type of ["finding", "evidence", "job", "run", "source", "requester"]) await expect(graph.getByTestId(`prov-node-${type}`).first()).toBeVisible();
    await expect(graph.locator(".react-flow__edge")).not.toHaveCount(0);
    await shot(page, testInfo.outputPath("finding-provenance.png"));

    // Follow it: the run node opens the run, the source node opens the source.
    await graph.getByTestId("prov-node-run").getByTestId("prov-node-link").click();
    await expect(page.getByTestId("page-run")).toBeVisible();
    await page.goBack();
    await expect(page.getByTestId("provenance-graph")).toBeVisible();
    await page.getByTestId("provenance-graph").getByTestId("prov-node-source").getByTestId("prov-node-link").click();
    await expect(page.getByTestId("page-source")).toHaveAttribute("data-source-id", sourceId);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("App repo MCP config");

    // The source counts its open findings by severity, lists them, and leads to them on the Findings page.
    const counts = page.getByTestId("source-findings-counts");
    await expect(counts.locator('[data-severity="high"]')).toHaveAttribute("data-count", "2");
    await expect(counts.locator('[data-severity="critical"]')).toHaveAttribute("data-count", "0");
    await expect(page.getByTestId("source-findings-table").getByTestId("finding-row")).toHaveCount(2);
    await shot(page, testInfo.outputPath("source-findings.png"));
    await page.getByTestId("source-findings-link").click();
    await expect(page).toHaveURL(new RegExp(`/findings\\?source_id=${sourceId}$`));
    await expect(page.getByTestId("finding-row")).toHaveCount(2);

    // The evidence node opens the evidence object: verify re-hashes it and checks its signature; download gives its bytes.
    await page.goto(findingUrl);
    await page.getByTestId("provenance-graph").getByTestId("prov-node-evidence").first().getByTestId("prov-node-link").click();
    await expect(page.getByTestId("page-evidence-object")).toBeVisible();
    const hash = (await page.getByTestId("evidence-hash").textContent())!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await expect(page.getByTestId("evidence-signing-key")).toHaveText(/^evidence:[0-9a-f-]{36}-1$/);
    await expect(page.getByTestId("evidence-key-fingerprint")).toHaveText(/^sha256:[0-9a-f]{64}$/);
    await page.getByTestId("verify-evidence").click();
    await expect(page.getByTestId("evidence-verification-summary")).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("evidence-verification")).toContainText("checks out");
    await expect(page.getByTestId("evidence-actual-hash")).toHaveText(hash);
    await shot(page, testInfo.outputPath("evidence.png"));
    const href = (await page.getByTestId("download-evidence").getAttribute("href"))!;
    expect(href).toMatch(/^\/v1\/evidence\/[0-9a-f-]{36}\/content$/);
    const download = await page.request.get(href);
    expect(download.status()).toBe(200);
    expect(createHash("sha256").update(await download.body()).digest("hex")).toBe(hash);
    await page.getByTestId("evidence-source-link").click();
    await expect(page.getByTestId("page-source")).toHaveAttribute("data-source-id", sourceId);

    // A policy, bound to the whole tenant in audit mode (no step-up for audit).
    await page.getByTestId("nav").getByRole("link", { name: "Policies", exact: true }).click();
    await expect(page).toHaveTitle("Policies · Cairn");
    await expect(page.getByTestId("catalogue-rule")).toHaveCount(5);
    await page.getByLabel("Name").fill("MCP hygiene");
    await page.getByLabel("Rules", { exact: true }).fill("mcp.*\nmcp.inline_secret critical");
    await page.getByTestId("create-policy-submit").click();
    await expect(page.getByTestId("page-policy")).toBeVisible();
    await expect(page.getByTestId("policy-rules")).toContainText("Critical");
    await page.getByLabel("Applies to").selectOption("tenant");
    await page.getByLabel("Mode").selectOption("audit");
    await page.getByTestId("bind-submit").click();
    await expect(page.getByTestId("policy-notice")).toContainText("Bound “MCP hygiene” on whole tenant in audit mode");
    await expect(page.getByTestId("binding-row").getByTestId("binding-mode")).toHaveText("Audit");
    await shot(page, testInfo.outputPath("policy.png"));

    expect(errors).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
