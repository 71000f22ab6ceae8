// Journey: a person adds a passkey, signs in with it instead of a password, and confirms a high-risk action with it.
// Chromium's virtual authenticator (over CDP) answers the WebAuthn prompts, so the real browser and server ceremonies run.
import { expect, test, type CDPSession, type Page } from "@playwright/test";
import { loginAsOwner } from "./support/login";

/** A platform authenticator that holds discoverable credentials and verifies the user without a prompt. */
async function addDevice(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
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

async function signOut(page: Page) {
  await page.getByTestId("user-menu").locator("summary").click();
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login/);
  expect((await page.context().cookies()).some((c) => c.name === "cairn_session")).toBe(false);
}

async function addPasskeyNamed(page: Page, name: string) {
  await page.getByTestId("new-passkey-name").fill(name);
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkeys-notice")).toHaveText(`Added “${name}”.`);
}

test("add a passkey, sign in with it, and confirm removing the last one with a step-up", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const laptop = await addDevice(cdp);

  // Signed in with a password moments ago, so adding a passkey is allowed.
  await loginAsOwner(page);
  await page.goto("/settings/passkeys");
  await expect(page).toHaveTitle("Passkeys · Cairn");
  await expect(page.getByTestId("passkeys-empty")).toBeVisible();
  await addPasskeyNamed(page, "Laptop");
  const laptopRow = page.getByTestId("passkey-row").filter({ hasText: "Laptop" });
  await expect(laptopRow.getByTestId("passkey-last-used")).toHaveText("Never");
  // The authenticator stored a discoverable credential: that is what lets sign-in skip the email.
  const stored = await cdp.send("WebAuthn.getCredentials", { authenticatorId: laptop });
  expect(stored.credentials.map((c) => c.isResidentCredential)).toEqual([true]);
  await page.screenshot({ path: testInfo.outputPath("passkeys.png"), fullPage: true });

  // Sign out, then back in with the passkey alone.
  await signOut(page);
  await page.getByTestId("passkey-login").click();
  await expect(page).not.toHaveURL(/\/login/);
  const me = (await (await page.request.get("/api/trpc/auth.me")).json()) as { result: { data: { json: { auth_method: string; step_up_at: string | null } } } };
  expect(me.result.data.json.auth_method).toBe("passkey");
  expect(me.result.data.json.step_up_at).not.toBeNull();
  await page.goto("/settings/passkeys");
  await expect(laptopRow.getByTestId("passkey-last-used")).not.toHaveText("Never");

  // A passkey sign-in counts as a fresh step-up; a password sign-in does not. Sign in with the password again, and
  // enrol a second device (the first one would refuse: it already holds a passkey for this account).
  await signOut(page);
  await loginAsOwner(page);
  await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: laptop });
  await addDevice(cdp);
  await page.goto("/settings/passkeys");
  await addPasskeyNamed(page, "Phone");
  await expect(page.getByTestId("passkey-row")).toHaveCount(2);

  // Removing one of two passkeys is not high-risk: no dialog.
  await laptopRow.getByTestId("passkey-remove").click();
  await laptopRow.getByTestId("passkey-remove-confirm").click();
  await expect(page.getByTestId("passkeys-notice")).toHaveText("Removed “Laptop”.");
  await expect(page.getByTestId("passkey-row")).toHaveCount(1);
  await expect(page.getByTestId("step-up-dialog")).toHaveCount(0);

  // Removing the last one is: the server asks for a step-up, the dialog runs it, and the removal is retried.
  const phoneRow = page.getByTestId("passkey-row").filter({ hasText: "Phone" });
  await phoneRow.getByTestId("passkey-remove").click();
  await phoneRow.getByTestId("passkey-remove-confirm").click();
  const dialog = page.getByTestId("step-up-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("heading")).toHaveText(/Confirm it.s you/);
  const usePasskey = dialog.getByRole("button", { name: "Use passkey" });
  await expect(usePasskey).toBeEnabled();
  await page.screenshot({ path: testInfo.outputPath("step-up-dialog.png") });
  await usePasskey.click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("passkeys-notice")).toHaveText("Removed “Phone”.");
  await expect(page.getByTestId("passkeys-empty")).toBeVisible();

  // The refused first attempt is a 412 (STEP_UP_REQUIRED), which Chromium logs; nothing else may reach the console.
  const refused = /status of 412/;
  expect(errors.filter((e) => !refused.test(e))).toEqual([]);
});

test("the audit page shows those passkey events and the step-up, and the chain verifies", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await loginAsOwner(page);
  await page.goto("/audit?action=passkey.*");
  const actions = page.getByTestId("audit-row").locator("td:nth-child(4)");
  await expect(actions.first()).toBeVisible();
  const seen = await actions.allTextContents();
  expect(seen).toEqual(expect.arrayContaining(["passkey.register", "passkey.remove"]));
  await page.goto("/audit?action=auth.*");
  const auth = await page.getByTestId("audit-row").locator("td:nth-child(4)").allTextContents();
  expect(auth).toEqual(expect.arrayContaining(["auth.login", "auth.logout", "auth.step_up"]));
  // The refused first removal (no fresh step-up) is in the trail as a denied attempt.
  await page.goto("/audit?outcome=denied");
  await expect(page.getByTestId("audit-row").first()).toContainText("passkeys.remove");

  await page.getByTestId("audit-verify").click();
  await expect(page.getByTestId("verify-result")).toContainText("The chain is intact");
  await page.screenshot({ path: testInfo.outputPath("audit.png"), fullPage: true });
  expect(errors).toEqual([]);
});
