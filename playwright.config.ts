import { defineConfig } from "@playwright/test";
import os from "node:os";
import path from "node:path";

// Journeys run against the real product: `cairn all` with a throwaway embedded PostgreSQL, in Debian's Chromium.
const port = Number(process.env.E2E_PORT ?? 3310);
// The one-time login of the bootstrapped e2e tenant admin (see scripts/e2e-server.js and e2e/support/login.ts).
export const credentialsFile = path.join(os.tmpdir(), `cairn-e2e-credentials-${port}.json`);
process.env.E2E_CREDENTIALS = credentialsFile;

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
    env: { PORT: String(port), LOG_LEVEL: "warn", NODE_ENV: "test", E2E_CREDENTIALS: credentialsFile, CAIRN_PUBLIC_URL: `http://localhost:${port}` },
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
