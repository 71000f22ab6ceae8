// Journeys: the sign-in gate in front of every page, signing in and out, sessions, and a tenant admin's settings
// (quotas, members, API keys). Without a passkey, high-risk actions lead to adding one first.
import { expect, test, type Page } from "@playwright/test";
import { credentials, loginAsOwner, NEW_PASSWORD } from "./support/login";

const REFUSED = /^console: Failed to load resource: the server responded with a status of 4\d\d/;

/** Collects console errors and uncaught page errors (hydration mismatches surface as both). */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

test("signed out, Cairn sends you to sign in, with a passkey button and no navigation", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=\/$/);
  await expect(page).toHaveTitle("Sign in · Cairn");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");
  await expect(page.getByTestId("nav")).toHaveCount(0);
  await expect(page.getByTestId("passkey-login")).toBeEnabled();
  // No OIDC provider is configured for these journeys, so there is no single sign-on button.
  await expect(page.getByTestId("oidc-login")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("login.png"), fullPage: true });

  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: testInfo.outputPath("login-dark.png"), fullPage: true });
  expect(errors).toEqual([]);
});

test("a wrong password is refused with a message that says so", async ({ page }, testInfo) => {
  const c = credentials();
  await page.goto("/login");
  await page.getByLabel("Email").fill(c.email);
  await page.getByLabel("Password", { exact: true }).fill("certainly-not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("login-error")).toContainText("Email or password is incorrect");
  await expect(page).toHaveURL(/\/login/);
  // The email stays filled in for the next try.
  await expect(page.getByLabel("Email")).toHaveValue(c.email);
  await page.screenshot({ path: testInfo.outputPath("login-wrong-password.png"), fullPage: true });
});

test("an OIDC failure sent back to the sign-in page is explained", async ({ page }) => {
  await page.goto("/login?error=oidc_no_account");
  await expect(page.getByTestId("login-error")).toContainText("There is no Cairn account for that identity");
});

test("the shell shows who is signed in and where; signing out ends the session", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const c = credentials();
  await loginAsOwner(page);
  await expect(page.getByTestId("tenant-switcher")).toContainText(c.tenant_slug);

  await page.getByTestId("user-menu").click();
  await expect(page.getByTestId("platform-owner-badge")).toBeVisible();
  await expect(page.getByRole("link", { name: "Passkeys" })).toHaveAttribute("href", "/settings/passkeys");
  await page.screenshot({ path: testInfo.outputPath("user-menu.png") });

  // Account: the password can be changed at any time (this journey only looks).
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page).toHaveTitle("Account · Cairn");
  await expect(page.getByRole("button", { name: "Change password" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("account.png"), fullPage: true });

  await page.getByTestId("user-menu").locator("summary").click();
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login$/);

  // The session is gone on the server too: a page asks for sign-in again and comes back afterwards.
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=\/settings$/);
  await page.getByLabel("Email").fill(c.email);
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId("user-menu")).toContainText(c.email);
  expect(errors).toEqual([]);
});

test("someone in two tenants switches between them from the top bar", async ({ page }, testInfo) => {
  const c = credentials();
  await loginAsOwner(page);
  // A platform owner creates a second tenant (and becomes its admin); its slug sorts after the e2e tenant's.
  const slug = `tenant-two-${Date.now()}`;
  const created = await page.request.post("/v1/platform/tenants", { data: { slug, name: "Tenant Two" }, headers: { Origin: testInfo.project.use.baseURL! } });
  expect(created.status()).toBe(201);

  await page.goto("/settings");
  const switcher = page.getByTestId("tenant-switcher");
  await expect(switcher.locator("summary")).toContainText(c.tenant_slug);
  await switcher.locator("summary").click();
  await page.screenshot({ path: testInfo.outputPath("tenant-switcher.png") });
  await page.getByTestId(`switch-tenant-${slug}`).click();
  await expect(switcher.locator("summary")).toContainText(slug);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId("tenant-slug")).toHaveText(slug);

  // And back, so the rest of the journeys find this session where they expect it.
  await switcher.locator("summary").click();
  await page.getByTestId(`switch-tenant-${c.tenant_slug}`).click();
  await expect(page.getByTestId("tenant-slug")).toHaveText(c.tenant_slug);
});

test("another browser's session can be revoked from Sessions", async ({ page, browser }, testInfo) => {
  await loginAsOwner(page);
  const elsewhere = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const otherPage = await elsewhere.newPage();
  await loginAsOwner(otherPage);

  await page.getByTestId("user-menu").click();
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page).toHaveTitle("Sessions · Cairn");
  await expect(page.getByTestId("session-current")).toContainText("This session");
  const others = page.getByTestId("session-other");
  await expect(others.first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("sessions.png"), fullPage: true });

  // Revoke every other session (earlier journeys leave some behind), one at a time.
  for (let left = await others.count(); left > 0; left--) {
    await others.first().getByTestId("revoke-session").click();
    await others.first().getByTestId("revoke-session-confirm").click();
    await expect(others).toHaveCount(left - 1);
  }

  await otherPage.goto("/settings");
  await expect(otherPage).toHaveURL(/\/login\?next=\/settings$/);
  await elsewhere.close();
});

test("settings: tenant and quotas, adding a member, and API keys asking for a passkey first", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const c = credentials();
  await loginAsOwner(page);

  await page.getByTestId("nav").getByRole("link", { name: "Settings", exact: true }).click();
  await expect(page).toHaveTitle("Settings · Cairn");
  await expect(page.getByTestId("tenant-slug")).toHaveText(c.tenant_slug);
  await expect(page.getByTestId("tenant-role")).toHaveText("Admin");
  await expect(page.getByTestId("usage-this-minute")).toContainText(/of [\d,]+/);
  await page.screenshot({ path: testInfo.outputPath("settings.png"), fullPage: true });

  // Admins change quotas; the new value is what the server now holds.
  const perKey = page.getByLabel("Per API key, requests per minute");
  await perKey.fill("300");
  await page.getByRole("button", { name: "Save quotas" }).click();
  await expect(page.getByTestId("quota-saved")).toBeVisible();
  await page.reload();
  await expect(perKey).toHaveValue("300");

  // Members: a new person gets a one-time password, shown once.
  await page.getByTestId("settings-nav").getByRole("link", { name: "Members" }).click();
  await expect(page).toHaveTitle("Members · Cairn");
  const email = `new-member-${Date.now()}@example.com`;
  const add = page.getByTestId("add-member");
  await add.getByLabel("Email").fill(email);
  await add.getByLabel("Name").fill("New Member");
  await add.getByLabel("Role").selectOption("operator");
  await add.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByTestId("one-time-password")).toContainText(`One-time password for ${email}`);
  await expect(page.getByTestId("one-time-password-value")).toHaveText(/^\S{20,}$/);
  const row = page.locator(`[data-testid="member-row"][data-email="${email}"]`);
  await expect(row).toContainText("Invited");
  await expect(row.getByTestId("member-role")).toHaveValue("operator");
  await page.screenshot({ path: testInfo.outputPath("members.png"), fullPage: true });

  // A role change is high-risk: without a passkey, the step-up dialog says to add one, and nothing changes.
  await row.getByTestId("member-role").selectOption("viewer");
  await expect(page.getByTestId("step-up-dialog")).toBeVisible();
  await expect(page.getByTestId("step-up-no-passkey")).toBeVisible();
  await page.getByTestId("step-up-cancel").click();
  await expect(page.getByTestId("step-up-dialog")).toHaveCount(0);
  await expect(row.getByTestId("member-role")).toHaveValue("operator");

  // API keys: the bootstrap key is listed; creating one without a passkey leads to adding a passkey first.
  await page.getByTestId("settings-nav").getByRole("link", { name: "API keys" }).click();
  await expect(page).toHaveTitle("API keys · Cairn");
  await expect(page.getByTestId("api-key-row").first()).toContainText("cairn_");
  await page.getByLabel("Name").fill("ci-pipeline");
  await page.getByLabel("Role", { exact: true }).selectOption("operator");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("step-up-dialog")).toBeVisible();
  await expect(page.getByTestId("step-up-no-passkey")).toContainText("Passkeys page");
  await page.screenshot({ path: testInfo.outputPath("api-keys-step-up.png"), fullPage: true });

  await page.getByTestId("step-up-add-passkey").click();
  await expect(page).toHaveURL(/\/settings\/passkeys$/);
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);

  await page.goto("/settings/api-keys");
  await expect(page.getByTestId("api-keys-table")).not.toContainText("ci-pipeline");
  await page.screenshot({ path: testInfo.outputPath("api-keys.png"), fullPage: true });
  // The refused high-risk calls are expected 4xx responses, which Chromium logs; nothing else may reach the console.
  expect(errors.filter((e) => !REFUSED.test(e))).toEqual([]);
});

test("a new admin chooses a password, adds a passkey, and creates, rotates and revokes an API key", async ({ page, browser, request }, testInfo) => {
  // The tenant owner adds a new admin, who receives a one-time password.
  await loginAsOwner(page);
  await page.goto("/settings/members");
  const email = `key-admin-${Date.now()}@example.com`;
  const add = page.getByTestId("add-member");
  await add.getByLabel("Email").fill(email);
  await add.getByLabel("Role").selectOption("admin");
  await add.getByRole("button", { name: "Add member" }).click();
  const oneTimePassword = (await page.getByTestId("one-time-password-value").textContent())!.trim();

  // The new admin, on a device with a platform authenticator (Chromium's virtual one, over CDP).
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const admin = await context.newPage();
  const errors = watchForErrors(admin);
  const cdp = await context.newCDPSession(admin);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  // The one-time password works once, and only to choose a real one: nothing else opens first.
  await admin.goto("/settings/api-keys");
  await expect(admin).toHaveURL(/\/login\?next=\/settings\/api-keys$/);
  await admin.getByLabel("Email").fill(email);
  await admin.getByLabel("Password", { exact: true }).fill(oneTimePassword);
  await admin.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(admin).toHaveURL(/\/account\/password\?next=\/settings\/api-keys$/);
  await expect(admin.getByRole("heading", { level: 1 })).toHaveText("Choose your password");
  await expect(admin.getByTestId("nav")).toHaveCount(0);
  await admin.getByLabel("Current password").fill(oneTimePassword);
  await admin.getByLabel("New password", { exact: true }).fill("too-short");
  await admin.getByLabel("Repeat new password").fill("too-short");
  await admin.getByRole("button", { name: "Change password" }).click();
  await expect(admin.getByTestId("password-error")).toHaveText("new_password: must be at least 12 characters");
  await admin.screenshot({ path: testInfo.outputPath("password-forced.png"), fullPage: true });
  await admin.getByLabel("Current password").fill(oneTimePassword);
  await admin.getByLabel("New password", { exact: true }).fill("a-long-and-private-passphrase");
  await admin.getByLabel("Repeat new password").fill("a-long-and-private-passphrase");
  await admin.getByRole("button", { name: "Change password" }).click();
  await expect(admin).toHaveURL(/\/settings\/api-keys$/);
  await expect(admin.getByTestId("user-menu")).toContainText(email);

  // A passkey first (the Passkeys page is the passkey journey's; here it is only the way to a step-up).
  await admin.goto("/settings/passkeys");
  await admin.getByTestId("new-passkey-name").fill("Laptop");
  await admin.getByTestId("add-passkey").click();
  await expect(admin.getByTestId("passkeys-notice")).toContainText("Laptop");

  // Create: the step-up dialog asks for the passkey, then the key is shown once.
  await admin.goto("/settings/api-keys");
  await admin.getByLabel("Name").fill("ci-pipeline");
  await admin.getByLabel("Role", { exact: true }).selectOption("operator");
  await admin.getByLabel("Expires after (days)").fill("30");
  await admin.getByRole("button", { name: "Create key" }).click();
  const dialog = admin.getByTestId("step-up-dialog");
  await dialog.getByRole("button", { name: "Use passkey" }).click();
  await expect(dialog).toHaveCount(0);
  const created = admin.getByTestId("new-api-key");
  await expect(created).toContainText("New API key “ci-pipeline”");
  const firstKey = (await admin.getByTestId("new-api-key-value").textContent())!.trim();
  expect(firstKey).toMatch(/^cairn_[a-z2-7]{12}_\S+$/);
  const row = (key: string) => admin.locator(`[data-testid="api-key-row"][data-key-id="${key.split("_")[1]}"]`);
  await expect(row(firstKey)).toHaveAttribute("data-status", "active");
  await expect(row(firstKey)).toContainText("Operator");
  await admin.screenshot({ path: testInfo.outputPath("api-key-created.png"), fullPage: true });

  // The key works against the REST API as this tenant.
  const asKey = (key: string) => request.get("/v1/tenant", { headers: { Authorization: `Bearer ${key}` } });
  expect((await asKey(firstKey)).status()).toBe(200);

  // Rotate: the successor is shown once, and the old key keeps working during the grace period.
  await row(firstKey).getByTestId("rotate-key").click();
  await row(firstKey).getByTestId("rotate-key-confirm").click();
  await expect(created).toContainText("Successor of “ci-pipeline”");
  await expect(created).toContainText("keeps working until");
  const successor = (await admin.getByTestId("new-api-key-value").textContent())!.trim();
  expect(successor).not.toBe(firstKey);
  await expect(row(firstKey)).toHaveAttribute("data-status", "rotating");
  await expect(row(firstKey).getByTestId("key-grace-until")).toContainText("Grace until");
  await expect(row(successor)).toHaveAttribute("data-status", "active");
  expect((await asKey(firstKey)).status()).toBe(200);
  expect((await asKey(successor)).status()).toBe(200);
  await admin.evaluate(() => window.scrollTo(0, 0));
  await admin.screenshot({ path: testInfo.outputPath("api-key-rotated.png"), fullPage: true });

  // Revoke the old one: refused at once.
  await row(firstKey).getByTestId("revoke-key").click();
  await row(firstKey).getByTestId("revoke-key-confirm").click();
  await expect(admin.getByTestId("key-revoked")).toBeVisible();
  await expect(row(firstKey)).toHaveAttribute("data-status", "revoked");
  expect((await asKey(firstKey)).status()).toBe(401);
  expect((await asKey(successor)).status()).toBe(200);

  // The refused first attempt (step-up required) and the too-short password are expected 4xx responses.
  expect(errors.filter((e) => !REFUSED.test(e))).toEqual([]);
  await context.close();
});
