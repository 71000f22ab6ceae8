// Runs `remix build` when the UI build is missing or older than any source it is built from.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const output = path.join(root, "build", "index.js");
const inputs = ["app", "remix.config.js", "package.json"].map((p) => path.join(root, p));

function newest(p) {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, entry)));
  return max;
}

const built = fs.existsSync(output) ? fs.statSync(output).mtimeMs : 0;
const changed = Math.max(...inputs.filter((p) => fs.existsSync(p)).map(newest));
if (built && built >= changed) process.exit(0);

console.log(built ? "UI sources changed: rebuilding…" : "Building the UI (first start)…");
const remix = path.join(root, "node_modules", ".bin", "remix");
const result = spawnSync(remix, ["build"], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
