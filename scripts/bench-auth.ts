// npm run bench:auth — sign-in and step-up latency against a real `cairn all` (embedded PostgreSQL), over HTTP:
// password sign-in, passkey sign-in and WebAuthn step-up (software authenticator, real server verification).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { SoftAuthenticator } from "../test/soft-authenticator.ts";

const N = Number(process.argv[2] ?? 30);
const port = 3990;
const base = `http://localhost:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-bench-auth-"));
fs.chmodSync(dataDir, 0o755);
const child = spawn(process.execPath, ["bin/cairn.js", "all"], { env: { ...process.env, PORT: String(port), CAIRN_DATA_DIR: dataDir, CAIRN_PUBLIC_URL: base, LOG_LEVEL: "warn", CAIRN_LOGIN_MAX_FAILURES: "1000" }, stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout.on("data", (d: Buffer) => (out += d.toString()));

async function trpc<T>(proc: string, input: unknown, cookie?: string): Promise<{ data: T; cookie?: string }> {
  const res = await fetch(`${base}/api/trpc/${proc}`, { method: "POST", headers: { "content-type": "application/json", origin: base, ...(cookie ? { cookie } : {}) }, body: JSON.stringify({ json: input }) });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!res.ok) throw new Error(`${proc}: ${res.status} ${JSON.stringify(body)}`);
  return { data: body.result!.data.json, cookie: res.headers.get("set-cookie")?.split(";")[0] };
}
async function query<T>(proc: string, cookie: string): Promise<T> {
  const res = await fetch(`${base}/api/trpc/${proc}`, { headers: { cookie } });
  return ((await res.json()) as { result: { data: { json: T } } }).result.data.json;
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5).toFixed(1), p95: q(0.95).toFixed(1), min: s[0]!.toFixed(1), max: s[s.length - 1]!.toFixed(1) };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

try {
  for (let i = 0; i < 300 && !/password:/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  const email = /email:\s+(\S+)/.exec(out)![1]!;
  const oneTime = /password:\s+(\S+)/.exec(out)![1]!;
  const password = "benchmark passphrase 1";
  const first = await trpc<unknown>("auth.login", { email, password: oneTime });
  await trpc("auth.changePassword", { current_password: oneTime, new_password: password }, first.cookie);

  const login: number[] = [];
  let cookie = "";
  for (let i = 0; i < N; i++) {
    login.push(await time(async () => (cookie = (await trpc("auth.login", { email, password })).cookie!)));
  }

  const auth = new SoftAuthenticator("localhost", base);
  const reg = await trpc<{ challenge_id: string; options: { challenge: string; user: { id: string } } }>("passkeys.registrationOptions", undefined, cookie);
  await trpc("passkeys.register", { challenge_id: reg.data.challenge_id, name: "bench", response: auth.register(reg.data.options) }, cookie);

  const passkeyLogin: number[] = [];
  for (let i = 0; i < N; i++) {
    passkeyLogin.push(
      await time(async () => {
        const o = await trpc<{ challenge_id: string; options: { challenge: string } }>("passkeys.loginOptions", undefined);
        cookie = (await trpc("passkeys.login", { challenge_id: o.data.challenge_id, response: auth.assert(o.data.options) })).cookie!;
      }),
    );
  }

  const stepUp: number[] = [];
  for (let i = 0; i < N; i++) {
    stepUp.push(
      await time(async () => {
        const o = await trpc<{ challenge_id: string; options: { challenge: string } }>("passkeys.stepUpOptions", undefined, cookie);
        await trpc("passkeys.stepUp", { challenge_id: o.data.challenge_id, response: auth.assert(o.data.options) }, cookie);
      }),
    );
  }
  await query("auth.me", cookie);

  const rows = [
    ["password sign-in (argon2id verify + session)", stats(login)],
    ["passkey sign-in (options + assertion verify + session)", stats(passkeyLogin)],
    ["step-up (options + assertion verify)", stats(stepUp)],
  ] as const;
  console.log(`\n${N} iterations each, one client, loopback HTTP, embedded PostgreSQL\n`);
  console.log("| operation | p50 ms | p95 ms | min ms | max ms |\n|---|---|---|---|---|");
  for (const [name, s] of rows) console.log(`| ${name} | ${s.p50} | ${s.p95} | ${s.min} | ${s.max} |`);
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}
