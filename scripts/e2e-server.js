// Playwright's web server: `cairn all` on a throwaway data dir that is removed once the server has stopped.
// SIGTERM/SIGINT are passed to the server so it drains and stops its PostgreSQL first.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-e2e-"));
fs.chmodSync(dataDir, 0o755);

const child = spawn(process.execPath, [path.join(root, "bin", "cairn.js"), "all"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CAIRN_DATA_DIR: dataDir },
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
