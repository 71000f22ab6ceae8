// Security properties seen from outside: first-start login, cookie flags, CSRF, brute force, and clean logs.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, runCairn, startCairn, tempDataDir, waitForReady, type CairnProcess } from "../../test/cairn-process.ts";

let proc: CairnProcess;
let base: string;
let dataDir: string;
let owner: { email: string; password: string };
const secrets: string[] = [];

async function trpc(path: string, input: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/api/trpc/${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ json: input }) });
}

beforeAll(async () => {
  dataDir = tempDataDir();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = startCairn(["all"], { PORT: String(port), CAIRN_DATA_DIR: dataDir, CAIRN_PUBLIC_URL: base, CAIRN_LOGIN_MAX_FAILURES: "3" });
  await waitForReady(base, proc);
  const email = /email:\s+(\S+)/.exec(proc.output())?.[1];
  const password = /password:\s+(\S+)/.exec(proc.output())?.[1];
  owner = { email: email!, password: password! };
  secrets.push(owner.password);
});

afterAll(async () => {
  await proc?.stop("SIGTERM");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("first start", () => {
  it("prints a one-time login for the platform owner, once", async () => {
    expect(owner.email).toBe("owner@cairn.local");
    expect(owner.password).toMatch(/^[a-z2-7]{5}(-[a-z2-7]{5}){3}$/);
  });
});

describe("sessions", () => {
  let cookie: string;

  it("password login sets an httpOnly, SameSite=Lax session cookie (not Secure on plain-http local mode)", async () => {
    const res = await trpc("auth.login", { email: owner.email, password: owner.password });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^cairn_session=[a-z2-7]+\.[a-z2-7]+;/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).not.toContain("Secure");
    cookie = setCookie.split(";")[0]!;
    secrets.push(cookie.split("=")[1]!);
    const body = (await res.json()) as { result: { data: { json: { must_change_password: boolean } } } };
    expect(body.result.data.json.must_change_password).toBe(true);
  });

  it("a one-time password must be changed before anything else", async () => {
    const members = await fetch(`${base}/api/trpc/members.list`, { headers: { cookie } });
    expect(members.status).toBe(403);
    const changed = await trpc("auth.changePassword", { current_password: owner.password, new_password: "correct horse battery staple" }, { cookie, origin: base });
    expect(changed.status).toBe(200);
    secrets.push("correct horse battery staple");
    expect((await fetch(`${base}/api/trpc/members.list`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses a state-changing request that rides the cookie from another origin", async () => {
    const res = await trpc("auth.logout", undefined, { cookie, origin: "http://evil.example" });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string; message: string } }).error.message).toContain("Cross-origin");
    const noOrigin = await trpc("auth.logout", undefined, { cookie });
    expect(noOrigin.status).toBe(403);
    // Still signed in.
    expect((await fetch(`${base}/api/trpc/auth.me`, { headers: { cookie } })).status).toBe(200);
  });

  it("Secure is set when the public URL is https", async () => {
    const { sessionCookie } = await import("../domain/auth/session.service.ts");
    expect(sessionCookie("a.b", new Date(Date.now() + 60_000), true)).toContain("; Secure");
  });
});

describe("brute force", () => {
  it("slows down, then answers 429 with Retry-After, and audits without saying whether the account exists", async () => {
    const attempt = (email: string) => trpc("auth.login", { email, password: "wrong password!!" }, { "x-forwarded-for": "203.0.113.9" });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) expect((await attempt(owner.email)).status).toBe(401);
    expect(Date.now() - t0).toBeGreaterThan(250 + 500); // each failure waits longer
    const blocked = await attempt(owner.email);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // An unknown account gets the very same answer.
    const unknown = await attempt("nobody@example.com");
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { json: { message: string } } }).error.json.message).toBe("Email or password is incorrect");
  });
});

describe("API keys over REST", () => {
  it("bootstrap's key works on /v1; a revoked key gets 401 at once", async () => {
    const boot = await runCairn(["admin", "bootstrap", "--tenant", "sec", "--json"], { CAIRN_DATA_DIR: dataDir });
    expect(boot.code).toBe(0);
    const { api_key } = JSON.parse(boot.stdout) as { api_key: string };
    secrets.push(api_key.split("_")[2]!);
    const auth = { authorization: `Bearer ${api_key}` };
    expect((await fetch(`${base}/v1/tenant`, { headers: auth })).status).toBe(200);
    // Without the high-risk scope, high-risk calls are 428.
    const create = await fetch(`${base}/v1/auth/keys`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: "x", role: "viewer" }) });
    expect(create.status).toBe(428);
    expect(((await create.json()) as { error: { code: string } }).error.code).toBe("STEP_UP_REQUIRED");
    const hr = await runCairn(["admin", "api-key", "create", "--tenant", "sec", "--role", "admin", "--high-risk", "--json"], { CAIRN_DATA_DIR: dataDir });
    const strong = JSON.parse(hr.stdout) as { id: string; api_key: string };
    secrets.push(strong.api_key.split("_")[2]!);
    const id = api_key.split("_")[1]!;
    const revoke = await fetch(`${base}/v1/auth/keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${strong.api_key}` } });
    expect(revoke.status).toBe(200);
    const after = await fetch(`${base}/v1/tenant`, { headers: auth });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toContain("revoked");
  });
});

describe("logs", () => {
  it("never contain passwords, session tokens or API key secrets", () => {
    const logLines = proc.output().split("\n").filter((l) => l.startsWith("{"));
    expect(logLines.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
