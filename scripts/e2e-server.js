// Playwright's web server: `cairn all` on a throwaway data dir that is removed once the server has stopped.
// Before starting it bootstraps tenant `e2e` (its admin is the platform owner, since it is the first user) and
// writes the one-time login to E2E_CREDENTIALS for e2e/support/login.ts. SIGTERM/SIGINT are passed to the server.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-e2e-"));
fs.chmodSync(dataDir, 0o755);
const env = { ...process.env, CAIRN_DATA_DIR: dataDir };
const cli = path.join(root, "bin", "cairn.js");

const boot = spawnSync(process.execPath, [cli, "admin", "bootstrap", "--tenant", "e2e", "--json"], { cwd: root, env, encoding: "utf8" });
if (boot.status !== 0) {
  process.stderr.write(`bootstrap failed: ${boot.stderr}\n`);
  process.exit(1);
}
const credentialsFile = process.env.E2E_CREDENTIALS;
if (credentialsFile) fs.writeFileSync(credentialsFile, boot.stdout.trim(), { mode: 0o600 });

const child = spawn(process.execPath, [cli, "all"], { cwd: root, stdio: "inherit", env });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (credentialsFile) fs.rmSync(credentialsFile, { force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
