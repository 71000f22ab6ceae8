// Evidence against a real PostgreSQL and a real data directory: blobs are content-addressed per tenant and never
// overwritten, rows carry a signature that verifies, verification catches a changed blob or a changed row, and
// row-level security keeps one tenant's evidence from another.
import { createPublicKey, verify } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { withTenant } from "../../db/tenant.ts";
import { evidence } from "../../db/schema/index.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import type { Runtime } from "../runtime.ts";
import { FilesystemEvidenceStore, sha256Hex } from "./evidence-store.ts";
import { evidenceServices, recordEvidence, signEvidenceHash, verifyEvidence, type EvidenceServices } from "./evidence.service.ts";

let t: TestDatabase;
let rt: Runtime;
let dataDir: string;
let services: EvidenceServices;
let tenantA: string;
let tenantB: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-evidence-"));
  rt = testRuntime(t, { CAIRN_DATA_DIR: dataDir });
  services = await evidenceServices(rt);
  tenantA = (await createTenant(t.client, { slug: "evidence-a", name: "A" }, system)).id;
  tenantB = (await createTenant(t.client, { slug: "evidence-b", name: "B" }, system)).id;
});
afterAll(async () => {
  await t.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const store = () => new FilesystemEvidenceStore(path.join(dataDir, "evidence"));
const filesUnder = (dir: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name)) : [];

function record(tenantId: string, body: string, kind = "inventory") {
  return withTenant(t.client, tenantId, (tx) => recordEvidence(tx, { tenantId, jobId: null, runId: null, sourceId: null, kind, contentType: "application/json", body: Buffer.from(body) }, services));
}

describe("evidence store", () => {
  it("stores the same bytes once per tenant, under <tenant>/<sha256[0..2]>/<sha256>", async () => {
    const bytes = Buffer.from('{"same":"bytes"}');
    const hash = sha256Hex(bytes);
    const first = await store().put(tenantA, bytes, "application/json");
    const second = await store().put(tenantA, bytes, "application/json");
    expect(second).toEqual(first);
    expect(first).toEqual({ storageUri: `fs://${tenantA}/${hash.slice(0, 2)}/${hash}`, hash, size: bytes.length });
    const other = await store().put(tenantB, bytes, "application/json");
    expect(other.storageUri).not.toBe(first.storageUri);

    expect(filesUnder(path.join(dataDir, "evidence", tenantA))).toEqual([path.join(dataDir, "evidence", tenantA, hash.slice(0, 2), hash)]);
    expect(await store().get(first.storageUri)).toEqual(bytes);
    const streamed: Buffer[] = [];
    for await (const chunk of store().open(first.storageUri)) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed)).toEqual(bytes);
  });

  it("never overwrites an object: a damaged object is reported, not replaced, and no temp files are left", async () => {
    const bytes = Buffer.from("immutable evidence");
    const { storageUri, hash } = await store().put(tenantA, bytes, "text/plain");
    const file = path.join(dataDir, "evidence", tenantA, hash.slice(0, 2), hash);
    expect(fs.statSync(file).mode & 0o222).toBe(0);

    fs.chmodSync(file, 0o640);
    fs.writeFileSync(file, "tampered");
    await expect(store().put(tenantA, bytes, "text/plain")).rejects.toThrow(/different content/);
    expect(fs.readFileSync(file, "utf8")).toBe("tampered");
    expect(filesUnder(path.dirname(file)).filter((f) => path.basename(f).startsWith(".tmp-"))).toEqual([]);
    expect(await store().get(storageUri)).toEqual(Buffer.from("tampered"));
  });

  it("writes concurrently stored identical bytes as one object", async () => {
    const bytes = Buffer.from(`concurrent ${Date.now()}`);
    const results = await Promise.all(Array.from({ length: 20 }, () => store().put(tenantB, bytes, "text/plain")));
    expect(new Set(results.map((r) => r.storageUri)).size).toBe(1);
    const dir = path.join(dataDir, "evidence", tenantB, results[0]!.hash.slice(0, 2));
    expect(filesUnder(dir).filter((f) => f.endsWith(results[0]!.hash))).toHaveLength(1);
    expect(filesUnder(dir).filter((f) => path.basename(f).startsWith(".tmp-"))).toEqual([]);
  });

  it("refuses URIs that are not its own or that try to leave the store", async () => {
    for (const uri of ["fs://../../etc/passwd", `fs://${tenantA}/zz/${"a".repeat(64)}`, `s3://bucket/${tenantA}/x`, `fs://${tenantA}/ab/${"c".repeat(64)}`]) {
      await expect(store().get(uri)).rejects.toThrow(/Not a filesystem evidence URI/);
    }
    await expect(store().put("not-a-tenant", Buffer.from("x"), "text/plain")).rejects.toThrow(/tenant uuid/);
  });
});

describe("evidence records", () => {
  it("records hash, size, storage URI and an Ed25519 signature over the hash by the tenant's own evidence key", async () => {
    const body = JSON.stringify({ inventory: [1, 2, 3] });
    const row = await record(tenantA, body);
    const keyA = await services.keyFor(tenantA);
    expect(row).toMatchObject({ tenantId: tenantA, kind: "inventory", contentType: "application/json", hash: sha256Hex(Buffer.from(body)), size: Buffer.byteLength(body), signingKeyId: keyA.id });
    expect(keyA.id).toBe(`evidence:${tenantA}-1`);
    const publicKey = createPublicKey(keyA.publicKeyPem);
    expect(verify(null, Buffer.from(row.hash), publicKey, Buffer.from(row.signature!, "base64"))).toBe(true);
    expect(await verifyEvidence(t.client, store(), row)).toEqual({ ok: true, hashMatches: true, signatureValid: true, actualHash: row.hash, problems: [] });

    // Tenant B's evidence has B's key; a row of A's naming B's key (or a signature by B's key) does not verify.
    const rowB = await record(tenantB, body);
    const keyB = await services.keyFor(tenantB);
    expect(rowB.signingKeyId).toBe(keyB.id);
    expect(keyB.publicKeyPem).not.toBe(keyA.publicKeyPem);
    const borrowed = await verifyEvidence(t.client, store(), { ...row, signingKeyId: keyB.id, signature: signEvidenceHash(keyB, row.hash) });
    expect(borrowed).toMatchObject({ ok: false, signatureValid: false });
    expect(borrowed.problems).toContain(`signing key ${keyB.id} is not an evidence key of this tenant`);
  });

  it("verification re-hashes the blob: a changed blob or a changed row no longer verifies", async () => {
    const row = await record(tenantA, "blob that will be changed");
    const file = path.join(dataDir, "evidence", tenantA, row.hash.slice(0, 2), row.hash);
    fs.chmodSync(file, 0o640);
    fs.writeFileSync(file, "blob that WAS changed");
    const changedBlob = await verifyEvidence(t.client, store(), row);
    expect(changedBlob).toMatchObject({ ok: false, hashMatches: false, signatureValid: true });
    expect(changedBlob.problems).toContain("the stored blob no longer matches the recorded hash");

    // Someone with the database rewrites the row to match the new bytes: the signature gives it away.
    const forged = { ...row, hash: sha256Hex(fs.readFileSync(file)), size: fs.statSync(file).size };
    expect(await verifyEvidence(t.client, store(), forged)).toMatchObject({ ok: false, hashMatches: true, signatureValid: false });

    const missing = await verifyEvidence(t.client, store(), { ...row, storageUri: `fs://${tenantA}/00/${"0".repeat(64)}` });
    expect(missing.ok).toBe(false);
    expect(missing.problems.join(" ")).toMatch(/missing from the store/);
  });

  it("keeps each tenant's evidence to itself (row-level security)", async () => {
    const a = await record(tenantA, "tenant A only");
    const seenByB = await withTenant(t.client, tenantB, (tx) => tx.select().from(evidence));
    expect(seenByB.map((r) => r.id)).not.toContain(a.id);
    expect(seenByB.every((r) => r.tenantId === tenantB)).toBe(true);
    // B cannot write a row claiming to be A's.
    await expect(
      withTenant(t.client, tenantB, (tx) => recordEvidence(tx, { tenantId: tenantA, jobId: null, runId: null, sourceId: null, kind: "inventory", contentType: "text/plain", body: Buffer.from("forged") }, services)),
    ).rejects.toThrow();
    const seenByA = await withTenant(t.client, tenantA, (tx) => tx.select().from(evidence));
    expect(seenByA.map((r) => r.id)).toContain(a.id);
  });
});
