// Signs in as the bootstrapped e2e tenant admin (also the platform owner). The first sign-in must replace the
// one-time password; later ones use the new password (tests run in one worker, in order).
import fs from "node:fs";
import { expect, type Page } from "@playwright/test";

export const NEW_PASSWORD = "e2e-correct-horse-battery";

interface Credentials {
  email: string;
  password: string | null;
  api_key: string;
  tenant_slug: string;
  changed?: boolean;
}

export function credentials(): Credentials {
  const file = process.env.E2E_CREDENTIALS;
  if (!file) throw new Error("E2E_CREDENTIALS is not set (playwright.config.ts sets it)");
  return JSON.parse(fs.readFileSync(file, "utf8")) as Credentials;
}

function markChanged(c: Credentials) {
  fs.writeFileSync(process.env.E2E_CREDENTIALS!, JSON.stringify({ ...c, changed: true }), { mode: 0o600 });
}

export async function loginAsOwner(page: Page): Promise<void> {
  const c = credentials();
  await page.goto("/login");
  await page.getByLabel("Email").fill(c.email);
  await page.getByLabel("Password", { exact: true }).fill(c.changed ? NEW_PASSWORD : c.password!);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  if (!c.changed) {
    await expect(page).toHaveURL(/\/account\/password/);
    await page.getByLabel("Current password").fill(c.password!);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    markChanged(c);
  }
  await expect(page.getByTestId("user-menu")).toContainText(c.email);
}
