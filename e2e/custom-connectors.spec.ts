// Journey: a platform owner opens Connectors, confirms with a passkey to see the allow-list, allow-lists an
// executable, sees it flagged once the file changes, and removes it. A second connector that floods its output runs
// from a source: the run fails and its collect stage says "Too large".
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { credentials, loginAsOwner } from "./support/login";

function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

async function stepUp(page: Page) {
  const dialog = page.getByTestId("step-up-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Use passkey" }).click();
  await expect(dialog).toHaveCount(0);
}

test("a platform owner allow-lists a custom connector, sees it flagged when its file changes, and removes it", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-e2e-connector-"));
  const executable = path.join(dir, "hosts-inventory.sh");
  fs.writeFileSync(executable, '#!/bin/sh\necho \'{"results": {"hosts": 0}}\' > "$CAIRN_OUTPUT_FILE"\n', { mode: 0o755 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  try {
    await loginAsOwner(page);
    await page.goto("/settings/passkeys");
    await page.getByTestId("new-passkey-name").fill("Connectors laptop");
    await page.getByTestId("add-passkey").click();
    await expect(page.getByTestId("passkeys-notice")).toHaveText("Added “Connectors laptop”.");

    await page.getByTestId("nav").getByRole("link", { name: "Connectors", exact: true }).click();
    await expect(page).toHaveTitle("Custom connectors · Cairn");
    // A passkey registration counts as a fresh step-up only for what it was; the list itself asks again if needed.
    const reveal = page.getByTestId("custom-connectors-reveal");
    if (await reveal.isVisible()) {
      await reveal.click();
      await stepUp(page);
    }
    await expect(page.getByTestId("empty-state")).toContainText("No custom connectors yet");

    const form = page.getByTestId("add-custom-connector");
    await form.getByLabel("Name", { exact: true }).fill("hosts-inventory");
    await form.getByLabel("Display name").fill("Hosts inventory");
    await form.getByLabel("Executable path").fill(executable);
    await form.getByLabel("Time budget (seconds)").fill("120");
    await page.getByTestId("add-custom-connector-submit").click();
    const dialog = page.getByTestId("step-up-dialog");
    if (await dialog.isVisible()) await stepUp(page);
    const row = page.getByTestId("custom-connector-row").filter({ hasText: "hosts-inventory" });
    await expect(row).toBeVisible();
    await expect(row.getByTestId("custom-connector-status")).toHaveText("Matches");
    await expect(row).toContainText(fs.realpathSync(executable));
    await expect(row).toContainText("120 s");
    await page.screenshot({ path: testInfo.outputPath("custom-connectors.png"), fullPage: true });

    // A connector that writes far more than its output budget: its run fails, and the collect stage says why.
    const flood = path.join(dir, "floods.sh");
    fs.writeFileSync(flood, "#!/bin/sh\nyes 'flood flood flood flood'\n", { mode: 0o755 });
    await form.getByLabel("Name", { exact: true }).fill("floods");
    await form.getByLabel("Display name").fill("Floods");
    await form.getByLabel("Executable path").fill(flood);
    await form.getByLabel("Output budget (MiB)").fill("1");
    await page.getByTestId("add-custom-connector-submit").click();
    if (await dialog.isVisible()) await stepUp(page);
    await expect(page.getByTestId("custom-connector-row").filter({ hasText: "floods" })).toBeVisible();
    const headers = { authorization: `Bearer ${credentials().api_key}`, "content-type": "application/json" };
    const created = await page.request.post("/v1/sources", { headers, data: { kind: "custom", display_name: "Flooding inventory", scope: { connector: "floods" } } });
    expect(created.status()).toBe(201);
    const started = await page.request.post(`/v1/sources/${(await created.json()).source_id}/run`, { headers });
    expect(started.status()).toBe(202);
    await page.goto(`/runs/${(await started.json()).run_id}`);
    await expect(page.getByTestId("run-status").first()).toHaveText("Failed", { timeout: 30_000 });
    await expect(page.getByTestId("stage-card-collect")).toHaveAttribute("data-status", "too_large");
    await expect(page.getByTestId("stage-status-collect")).toHaveText("Too large");
    await expect(page.getByTestId("stage-errors-collect")).toContainText("its output budget");
    await page.screenshot({ path: testInfo.outputPath("run-too-large.png"), fullPage: true });
    await page.goto("/platform/connectors");
    if (await reveal.isVisible()) {
      await reveal.click();
      if (await dialog.isVisible()) await stepUp(page);
    }

    // The file changes on disk: the list (re-checked on each load) says so.
    fs.appendFileSync(executable, "# edited after review\n");
    await page.reload();
    if (await reveal.isVisible()) {
      await reveal.click();
      if (await dialog.isVisible()) await stepUp(page);
    }
    await expect(row.getByTestId("custom-connector-status")).toHaveText("Modified");

    await row.getByTestId("custom-connector-remove").click();
    await row.getByRole("button", { name: "Remove" }).last().click();
    if (await dialog.isVisible()) await stepUp(page);
    await expect(row).toHaveCount(0);
    // The journey removes the passkey it added, so later journeys find the owner as they expect.
    await page.goto("/settings/passkeys");
    const passkey = page.getByTestId("passkey-row").filter({ hasText: "Connectors laptop" });
    await passkey.getByTestId("passkey-remove").click();
    await passkey.getByTestId("passkey-remove-confirm").click();
    const removed = page.getByTestId("passkeys-notice").filter({ hasText: "Removed “Connectors laptop”." });
    await expect(dialog.or(removed).first()).toBeVisible();
    if (await dialog.isVisible()) await stepUp(page);
    await expect(removed).toBeVisible();
    // 412 is the step-up answer the page handles by asking for the passkey; nothing else may fail.
    expect(errors.filter((e) => !/status of 412/.test(e))).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
