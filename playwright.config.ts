import { defineConfig } from "@playwright/test";

// Journeys run against the real product: `cairn all` with a throwaway embedded PostgreSQL, in Debian's Chromium.
const port = Number(process.env.E2E_PORT ?? 3310);

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // npm test (scripts/test-all.js) also asks for a JSON report via PLAYWRIGHT_JSON_OUTPUT_FILE.
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_FILE ? [["list"], ["json"]] : [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // Started with node directly (not through npm/npx) so SIGTERM reaches the server and it stops its PostgreSQL;
    // the wrapper gives it a throwaway data dir and removes that afterwards.
    command: `node scripts/e2e-server.js`,
    url: `http://localhost:${port}/readyz`,
    timeout: 90_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: { PORT: String(port), LOG_LEVEL: "warn", NODE_ENV: "test" },
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
