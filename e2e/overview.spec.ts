// Journey: an operator signs in, sees the shell and live system health, walks to other sections and an unknown address.
import { expect, test, type Page } from "@playwright/test";
import { credentials, loginAsOwner } from "./support/login";

const NAV = ["Overview", "Sources", "Runs", "Jobs", "Schedules", "Credentials", "Evidence", "Findings", "Nodes", "Audit", "Settings"];

/** Collects console errors and uncaught page errors (hydration mismatches surface as both). */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

test("overview shows the shell and live system info; sections and 404 render inside it", async ({ page, request }, testInfo) => {
  const errors = watchForErrors(page);
  const info = (await (await request.get("/v1/system/info")).json()) as { version: string };
  const c = credentials();

  await loginAsOwner(page);
  await page.goto("/");
  await expect(page).toHaveTitle("Overview · Cairn");

  // The shell: product name, every section in the navigation, the current tenant and who is signed in.
  await expect(page.getByTestId("brand")).toHaveText("Cairn");
  const nav = page.getByTestId("nav");
  for (const label of NAV) await expect(nav.getByRole("link", { name: label, exact: true })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Overview", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("tenant-switcher")).toContainText(c.tenant_slug);
  await expect(page.getByTestId("user-menu")).toContainText(c.email);

  // Live system.info from the real server and its embedded PostgreSQL.
  const system = page.getByTestId("system-info");
  await expect(system.getByTestId("app-version")).toHaveText(info.version);
  await expect(system.getByTestId("app-mode")).toHaveText("all");
  await expect(system.getByTestId("db-status")).toHaveText("Reachable");
  await expect(system.getByTestId("db-kind")).toHaveText("Embedded PostgreSQL");
  await expect(system.getByTestId("db-server-version")).toHaveText(/^\d+(\.\d+)?/);
  await expect(system.getByTestId("migrations-status")).toHaveText("Current");
  await expect(system.getByTestId("migrations-count")).toHaveText(/^(\d+) of \1 applied$/);
  await expect(system.getByTestId("installation-id")).toHaveText(/^[0-9a-f-]{36}$/);
  await expect(system.getByTestId("live-indicator")).toHaveAttribute("data-state", "live");
  // The "updated" time appears only once the browser has hydrated the page.
  await expect(system.getByTestId("live-indicator")).toContainText("updated");
  // Every planned capability area is built, so the Overview shows no roadmap.
  await expect(page.getByTestId("whats-next")).toHaveCount(0);

  // The browser keeps it fresh through tRPC (every 10 s).
  const refresh = await page.waitForResponse((res) => res.url().includes("/api/trpc/system.info"), { timeout: 15_000 });
  expect(refresh.status()).toBe(200);

  await page.screenshot({ path: testInfo.outputPath("overview.png"), fullPage: true });

  // Client-side navigation to other sections renders them inside the same shell.
  await nav.getByRole("link", { name: "Sources", exact: true }).click();
  await expect(page).toHaveURL(/\/sources$/);
  await expect(page).toHaveTitle("Sources · Cairn");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sources");
  await expect(page.getByTestId("new-source")).toBeVisible();
  await expect(nav.getByRole("link", { name: "Sources", exact: true })).toHaveAttribute("aria-current", "page");
  await page.screenshot({ path: testInfo.outputPath("sources.png"), fullPage: true });

  await nav.getByRole("link", { name: "Nodes", exact: true }).click();
  await expect(page).toHaveTitle("Nodes · Cairn");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Nodes");

  await nav.getByRole("link", { name: "Audit", exact: true }).click();
  await expect(page).toHaveTitle("Audit · Cairn");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Audit");

  // An unknown address is a real 404 for a signed-in person, inside the same layout, with the request id to quote.
  const missing = await page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  await expect(page).toHaveTitle("Not found · Cairn");
  await expect(page.getByTestId("error-status")).toHaveText("404");
  await expect(page.getByTestId("error-message")).toContainText("/no-such-page");
  await expect(page.getByTestId("request-id")).toHaveText(missing!.headers()["x-request-id"]!);
  await expect(page.getByTestId("nav")).toBeVisible();
  await expect(page.getByTestId("user-menu")).toContainText(c.email);
  await page.screenshot({ path: testInfo.outputPath("not-found.png"), fullPage: true });

  // Back into the app from the error page.
  await page.getByRole("link", { name: "Go to Overview" }).click();
  await expect(page.getByTestId("system-info").getByTestId("db-status")).toHaveText("Reachable");

  // The dark palette follows the operating system's preference.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: testInfo.outputPath("overview-dark.png"), fullPage: true });

  // Chromium itself logs the 404 document response it was asked to load; nothing else may reach the console.
  const expected404 = "console: Failed to load resource: the server responded with a status of 404 (Not Found)";
  expect(errors.filter((e) => e !== expected404)).toEqual([]);
});

test("on a phone-sized screen the sidebar collapses into a menu", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await loginAsOwner(page);
  await page.goto("/");
  await expect(page.getByTestId("system-info").getByTestId("db-status")).toHaveText("Reachable");

  const nav = page.getByTestId("nav");
  const toggle = page.getByTestId("menu-toggle");
  await expect(nav).toBeHidden();
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await page.screenshot({ path: testInfo.outputPath("overview-mobile.png"), fullPage: true });

  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(nav).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("menu-mobile.png") });

  await nav.getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page).toHaveTitle("Jobs · Cairn");
  await expect(nav).toBeHidden();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Jobs");
  await page.screenshot({ path: testInfo.outputPath("jobs-mobile.png"), fullPage: true });

  expect(errors).toEqual([]);
});
