// Journey: an admin adds a credential ref (confirmed with a passkey), registers an MCP-config source over a directory
// holding real client configs, runs it and follows the run to its evidence, and schedules it. A second source points
// at a path that does not exist: it fails on collect, a bulk retry fails again, its scope is fixed, and a retry of the
// original succeeds, which then shows Recovered. A kind without a connector is registered as unsupported.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type CDPSession, type Page } from "@playwright/test";
import { credentials, loginAsOwner } from "./support/login";

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../server/connectors/mcp-config/fixtures");

/** A platform authenticator that holds discoverable credentials and verifies the user without a prompt. */
async function addDevice(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return authenticatorId;
}

/** Console errors and uncaught page errors (hydration mismatches surface as both). */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/** A directory laid out like a developer's machine: a Claude Desktop config and a Cursor project config. */
function prepareConfigDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-e2e-mcp-"));
  fs.copyFileSync(path.join(FIXTURES, "claude-desktop", "Ap6pack__mcp-security-suite.json"), path.join(dir, "claude_desktop_config.json"));
  fs.mkdirSync(path.join(dir, "project", ".cursor"), { recursive: true });
  fs.copyFileSync(path.join(FIXTURES, "cursor", "0xJacky__nginx-ui.json"), path.join(dir, "project", ".cursor", "mcp.json"));
  return dir;
}

/** A full-page screenshot from the top, so the sticky top bar sits where it belongs. */
async function shot(page: Page, file: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
}

async function confirmStepUpIfAsked(page: Page) {
  const dialog = page.getByTestId("step-up-dialog");
  if (await dialog.isVisible()) {
    await dialog.getByRole("button", { name: "Use passkey" }).click();
    await expect(dialog).toHaveCount(0);
  }
}

async function createSource(page: Page, name: string, scope: unknown, opts: { kind?: string; screenshot?: string } = {}): Promise<string> {
  const kind = opts.kind ?? "scan.mcp_config";
  await page.goto("/sources/new");
  await expect(page).toHaveTitle("New source · Cairn");
  await page.getByLabel("Kind").selectOption(kind);
  // Kinds without a connector in this build say so before anything is saved.
  await expect(page.getByTestId("kind-unsupported")).toHaveCount(kind === "scan.mcp_config" ? 0 : 1);
  await page.getByLabel("Display name").fill(name);
  await page.getByTestId("source-scope").fill(JSON.stringify(scope));
  if (opts.screenshot) await shot(page, opts.screenshot);
  await page.getByTestId("source-submit").click();
  await expect(page.getByTestId("page-source")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  return (await page.getByTestId("page-source").getAttribute("data-source-id"))!;
}

/** "Run now" on the source page, then follow the link to the new run. */
async function runNow(page: Page): Promise<string> {
  await page.getByTestId("run-now").click();
  const link = page.getByTestId("run-now-link");
  await expect(link).toBeVisible();
  await link.click();
  await expect(page.getByTestId("page-run")).toBeVisible();
  return (await page.getByTestId("page-run").getAttribute("data-run-id"))!;
}

test("sources run live through their stages; a failed run is fixed, retried and shows Recovered", async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  expect(fs.existsSync(FIXTURES), "the MCP config fixtures are in the repository").toBe(true);
  const errors = watchForErrors(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await addDevice(cdp);
  const configDir = prepareConfigDir();
  const slug = credentials().tenant_slug;
  let passkeyAdded = false;

  try {
    await loginAsOwner(page);

    // A passkey, so the high-risk credential change can be confirmed.
    await page.goto("/settings/passkeys");
    await page.getByTestId("new-passkey-name").fill("Control-plane laptop");
    await page.getByTestId("add-passkey").click();
    await expect(page.getByTestId("passkeys-notice")).toHaveText("Added “Control-plane laptop”.");
    passkeyAdded = true;

    // A credential ref: the page says where the broker will look; creating it asks for the passkey.
    await page.getByTestId("nav").getByRole("link", { name: "Credentials", exact: true }).click();
    await expect(page).toHaveTitle("Credentials · Cairn");
    await page.getByLabel("Name").fill("CI token");
    await expect(page.getByTestId("credential-provider").locator("option[value=vault]")).toBeDisabled();
    await page.getByLabel("External ref").fill("ci-token");
    await expect(page.getByTestId("credential-location-preview")).toHaveText(`CAIRN_TENANT_${slug.toUpperCase().replace(/-/g, "_")}_CI_TOKEN_<KEY>`);
    await page.getByTestId("create-credential-submit").click();
    const dialog = page.getByTestId("step-up-dialog");
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Use passkey" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId("credentials-notice")).toContainText("Added “CI token”");
    const refRow = page.getByTestId("credential-row").filter({ hasText: "CI token" });
    await expect(refRow).toBeVisible();
    // No values are set for it in this environment: the test says so, by name only.
    await refRow.getByTestId("test-credential").click();
    await expect(refRow.getByTestId("credential-health")).toHaveText("Missing");
    await shot(page, testInfo.outputPath("credentials.png"));

    // A source over the prepared directory, run now: the run page follows it to its evidence.
    const goodId = await createSource(page, "Laptop MCP configs", { paths: [configDir] }, { screenshot: testInfo.outputPath("new-source.png") });
    await expect(page.getByTestId("source-status")).toHaveText("Active");
    const goodRun = await runNow(page);
    await expect(page.getByTestId("run-status").first()).toHaveText("Succeeded", { timeout: 30_000 });
    for (const stage of ["collect", "normalize", "evidence"]) await expect(page.getByTestId(`stage-card-${stage}`)).toHaveAttribute("data-status", "succeeded");
    await expect(page.getByTestId("stage-card-evaluate")).toHaveAttribute("data-status", /succeeded|skipped/);
    expect(Number(await page.getByTestId("stage-items-collect").textContent())).toBeGreaterThan(0);
    expect(Number(await page.getByTestId("run-evidence-count").textContent())).toBeGreaterThan(0);
    await expect(page.getByTestId("log-line").first()).toBeVisible();
    await expect(page.getByTestId("live-log")).toHaveAttribute("data-connection", "ended");
    await shot(page, testInfo.outputPath("run-succeeded.png"));

    // Its evidence is listed on the Evidence page (filtered to this run), and on the source.
    await page.getByTestId("run-evidence-link").click();
    await expect(page).toHaveURL(new RegExp(`/evidence\\?run_id=${goodRun}$`));
    await expect(page.getByTestId("evidence-row").first()).toBeVisible();
    await expect(page.getByTestId("evidence-row").first()).toContainText("Signed");
    await page.goto(`/sources/${goodId}?tab=evidence`);
    await expect(page.getByTestId("evidence-row").first()).toContainText("Signed");
    await shot(page, testInfo.outputPath("source-evidence.png"));

    // A schedule for it, with the next fire times in its zone.
    await page.getByTestId("tab-schedules").click();
    await page.getByTestId("add-schedule").click();
    await page.getByTestId("schedule-cron").fill("30 2 * * *");
    await page.getByTestId("schedule-timezone").fill("Europe/Paris");
    await page.getByTestId("schedule-submit").click();
    await expect(page.getByTestId("schedule-created")).toBeVisible();
    await expect(page.getByTestId("upcoming-row")).toHaveCount(5);
    await expect(page.getByTestId("upcoming-row").first()).toContainText("02:30");
    await shot(page, testInfo.outputPath("schedule.png"));

    // A source whose path does not exist fails on collect, and says why.
    const missing = path.join(configDir, "does-not-exist");
    const badId = await createSource(page, "Build agent MCP configs", { paths: [missing] });
    const badRun = await runNow(page);
    await expect(page.getByTestId("run-status").first()).toHaveText("Failed", { timeout: 30_000 });
    await expect(page.getByTestId("stage-card-collect")).toHaveAttribute("data-status", "failed");
    await expect(page.getByTestId("stage-errors-collect")).toContainText("could be scanned");
    await expect(page.getByTestId("stage-errors-collect")).toContainText(missing);
    await expect(page.getByTestId("retry-run")).toBeVisible();
    await shot(page, testInfo.outputPath("run-failed.png"));

    // The runs list: both runs on one row each with their stages; the broken source is still failing.
    await page.getByTestId("nav").getByRole("link", { name: "Runs", exact: true }).click();
    await expect(page.locator(`[data-testid=run-row][data-run-id="${goodRun}"]`)).toHaveAttribute("data-status", "succeeded");
    const badRow = page.locator(`[data-testid=run-row][data-run-id="${badRun}"]`);
    await expect(badRow).toHaveAttribute("data-status", "failed");
    await expect(badRow.getByTestId("stage-collect")).toHaveAttribute("data-status", "failed");
    await expect(page.locator(`[data-testid=still-failing-row][data-source-id="${badId}"]`)).toBeVisible();
    await expect(page.locator(`[data-testid=still-failing-row][data-source-id="${goodId}"]`)).toHaveCount(0);
    await shot(page, testInfo.outputPath("runs-list.png"));

    // Bulk retry of everything the filter matches, with progress: the broken source's failed run is retried, and
    // fails again, since its scope is still wrong.
    await page.goto(`/runs?source_id=${badId}&status=failed`);
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.getByTestId("bulk-retry").click();
    await page.getByTestId("bulk-retry-confirm").click();
    await expect(page.getByTestId("bulk-progress")).toHaveAttribute("data-done", "true");
    await expect(page.getByTestId("bulk-count")).toHaveText("1 of 1");
    await expect(page.getByTestId("bulk-summary")).toContainText("Retried 1.");
    await shot(page, testInfo.outputPath("runs-bulk.png"));
    await expect(async () => {
      await page.goto(`/runs?source_id=${badId}`);
      await expect(page.getByTestId("run-row")).toHaveCount(2);
      await expect(page.locator("[data-testid=run-row][data-status=queued], [data-testid=run-row][data-status=running]")).toHaveCount(0);
    }).toPass({ timeout: 30_000 });

    // Fix the scope, then retry the original failed run: the retry succeeds and the original counts as recovered.
    await page.goto(`/sources/${badId}`);
    await page.getByTestId("edit-source").click();
    await page.getByTestId("source-scope").fill(JSON.stringify({ paths: [configDir] }));
    await page.getByTestId("source-submit").click();
    await expect(page.getByTestId("source-saved")).toBeVisible();
    await expect(page.getByTestId("source-scope-view")).toContainText(configDir);

    await page.goto(`/runs/${badRun}`);
    await page.getByTestId("retry-run").click();
    await expect(page).not.toHaveURL(new RegExp(`/runs/${badRun}$`));
    await expect(page.getByTestId("run-status").first()).toHaveText("Succeeded", { timeout: 30_000 });
    await expect(page.getByTestId("lineage-retry-of")).toBeVisible();
    await shot(page, testInfo.outputPath("run-retry.png"));
    await page.getByTestId("lineage-retry-of").click();
    await expect(page).toHaveURL(new RegExp(`/runs/${badRun}$`));
    await expect(page.getByTestId("recovered-badge").first()).toHaveText("Recovered");
    await expect(page.getByTestId("recovered-by")).toBeVisible();
    // Two retries hang off it: the bulk one that failed again and the one that fixed it.
    await expect(page.getByTestId("lineage-retry")).toHaveCount(2);

    await page.goto("/runs");
    await expect(page.locator(`[data-testid=run-row][data-run-id="${badRun}"]`).getByTestId("recovered-badge")).toBeVisible();
    await expect(page.getByTestId("still-failing-empty")).toBeVisible();
    await shot(page, testInfo.outputPath("runs-recovered.png"));

    // The queue saw four jobs, each with the evidence it stored (none for the failed ones).
    await page.goto("/jobs");
    await expect(page.getByTestId("job-row")).toHaveCount(4);
    await expect(page.locator("[data-testid=job-row][data-status=failed]")).toHaveCount(2);
    await expect(page.locator("[data-testid=job-row][data-status=failed]").first().getByTestId("job-last-error")).toContainText("could be scanned");
    await expect(page.locator("[data-testid=job-row][data-status=succeeded]").first().getByTestId("job-evidence")).toHaveText(/^[1-9]/);
    await shot(page, testInfo.outputPath("jobs.png"));

    // A kind without a connector in this build is registered but shown as unsupported, and cannot run.
    await createSource(page, "Registry mirror", {}, { kind: "connector.registry" });
    await expect(page.getByTestId("source-status")).toHaveText("Unsupported");
    await expect(page.getByTestId("run-now")).toBeDisabled();

    // The source list shows every source with its status and latest result.
    await page.goto("/sources");
    await expect(page.locator(`[data-testid=source-row][data-source-id="${badId}"]`).getByTestId("source-last-outcome")).toHaveText("Succeeded");
    await shot(page, testInfo.outputPath("sources.png"));

    // The overview counts them.
    await page.goto("/");
    await expect(page.getByTestId("count-sources")).toHaveText("3");
    await expect(page.getByTestId("count-still-failing")).toHaveText("0");
    await shot(page, testInfo.outputPath("overview.png"));
  } finally {
    // Later journeys start without passkeys.
    if (passkeyAdded) {
      await page.goto("/settings/passkeys");
      const row = page.getByTestId("passkey-row").filter({ hasText: "Control-plane laptop" });
      await row.getByTestId("passkey-remove").click();
      await row.getByTestId("passkey-remove-confirm").click();
      await expect(page.getByTestId("step-up-dialog").or(page.getByTestId("passkeys-notice"))).toBeVisible();
      await confirmStepUpIfAsked(page);
      await expect(page.getByTestId("passkeys-empty")).toBeVisible();
    }
    fs.rmSync(configDir, { recursive: true, force: true });
  }

  // The refused first attempt of a high-risk action is a 412 (STEP_UP_REQUIRED), which Chromium logs.
  expect(errors.filter((e) => !/status of 412/.test(e))).toEqual([]);
});
