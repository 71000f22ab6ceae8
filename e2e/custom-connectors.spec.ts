// Journey: a platform owner opens Connectors, confirms with a passkey to see the allow-list, allow-lists an
// executable, sees it flagged once the file changes, and removes it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { loginAsOwner } from "./support/login";

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
    // 412 is the step-up answer the page handles by asking for the passkey; nothing else may fail.
    expect(errors.filter((e) => !/status of 412/.test(e))).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
