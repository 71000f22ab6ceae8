// The S3 evidence backend against a real S3-protocol server (s3rver, SigV4-checked, started here on a random port):
// selected by the environment, put + get + verify round-trip, idempotent puts, a tampered or missing object caught
// by verify, and the filesystem backend still the default.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import S3rver from "@20minutes/s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/test-db.ts";
import { testRuntime } from "../../test/runtime.ts";
import { withTenant } from "../../db/tenant.ts";
import { InvalidEnvError, parseEnv } from "../config/env.ts";
import { createTenant } from "../domain/tenants/tenants.service.ts";
import { EvidenceStoreError, FilesystemEvidenceStore, tenantOfStorageUri } from "./evidence-store.ts";
import { evidenceServices, recordEvidence, verifyEvidence, type EvidenceRow } from "./evidence.service.ts";
import { S3EvidenceStore } from "./s3-store.ts";

const BUCKET = "cairn-evidence";
let t: TestDatabase;
let s3rver: InstanceType<typeof S3rver>;
let s3dir: string;
let endpoint: string;
let tenant: string;
const system = { actor: "system:test", actorType: "system" as const, requestId: null, ip: null };

beforeAll(async () => {
  t = await createTestDatabase();
  s3dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-s3rver-"));
  s3rver = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const addr = (await s3rver.run()) as AddressInfo;
  endpoint = `http://127.0.0.1:${addr.port}`;
  // The SDK's default credential chain reads these; s3rver checks SigV4 signatures against its S3RVER key pair.
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  tenant = (await createTenant(t.client, { slug: "s3-evidence", name: "S3 evidence" }, system)).id;
});
afterAll(async () => {
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  await s3rver?.close();
  await t?.drop();
  fs.rmSync(s3dir, { recursive: true, force: true });
});

const s3Env = () => ({ CAIRN_EVIDENCE_STORE: "s3", CAIRN_EVIDENCE_S3_BUCKET: BUCKET, CAIRN_EVIDENCE_S3_PREFIX: "evidence/", CAIRN_EVIDENCE_S3_ENDPOINT: endpoint, CAIRN_EVIDENCE_S3_FORCE_PATH_STYLE: "true" });

async function record(body: string) {
  const rt = testRuntime(t, s3Env());
  const services = await evidenceServices(rt);
  const row = await withTenant(t.client, tenant, (tx) => recordEvidence(tx, { tenantId: tenant, jobId: null, runId: null, sourceId: null, kind: "test", contentType: "text/plain", body: Buffer.from(body) }, services));
  return { services, row, store: services.store as S3EvidenceStore };
}

describe("S3 evidence store", () => {
  it("is selected by the environment and round-trips put, get, open and verify over the S3 protocol", async () => {
    const { services, row, store } = await record("collected inventory #1");
    expect(store).toBeInstanceOf(S3EvidenceStore);
    expect(row.storageUri).toMatch(new RegExp(`^s3://${BUCKET}/evidence/${tenant}/[0-9a-f]{2}/[0-9a-f]{64}$`));
    expect(row.hash).toBe(row.storageUri.slice(-64));
    expect(tenantOfStorageUri(row.storageUri)).toBe(tenant);
    expect((await store.get(row.storageUri)).toString()).toBe("collected inventory #1");
    const chunks: Buffer[] = [];
    for await (const c of store.open(row.storageUri)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("collected inventory #1");
    expect(await verifyEvidence(t.client, services.store, row)).toMatchObject({ ok: true, hashMatches: true, signatureValid: true, problems: [] });

    // The object really is in the server's bucket, with the hash as metadata.
    const raw = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: row.storageUri.slice(`s3://${BUCKET}/`.length) }));
    expect(raw.Metadata).toMatchObject({ sha256: row.hash, tenant });
    expect(fs.readdirSync(s3dir)).toContain(BUCKET);

    // The same bytes again: the same object, nothing rewritten.
    const again = await record("collected inventory #1");
    expect(again.row.storageUri).toBe(row.storageUri);
  });

  it("verify catches an object changed behind the store's back", async () => {
    const { services, row, store } = await record("collected inventory #2");
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: row.storageUri.slice(`s3://${BUCKET}/`.length), Body: Buffer.from("forged inventory #2!") }));
    const result = await verifyEvidence(t.client, services.store, row);
    expect(result).toMatchObject({ ok: false, hashMatches: false, signatureValid: true });
    expect(result.problems).toContain("the stored blob no longer matches the recorded hash");
  });

  it("a missing object is a clear error, for get, open and verify", async () => {
    const { services, row, store } = await record("collected inventory #3");
    await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: row.storageUri.slice(`s3://${BUCKET}/`.length) }));
    await expect(store.get(row.storageUri)).rejects.toThrow(new EvidenceStoreError(`Evidence object ${row.storageUri} is missing from the store`));
    await expect(
      (async () => {
        for await (const _ of store.open(row.storageUri)) void _;
      })(),
    ).rejects.toBeInstanceOf(EvidenceStoreError);
    const result = await verifyEvidence(t.client, services.store, row);
    expect(result.ok).toBe(false);
    expect(result.problems).toContain(`Evidence object ${row.storageUri} is missing from the store`);
  });

  it("refuses URIs of another bucket or prefix, and tenants that are not uuids", async () => {
    const { store, row } = await record("collected inventory #4");
    await expect(store.get(row.storageUri.replace(`s3://${BUCKET}/`, "s3://other-bucket/"))).rejects.toBeInstanceOf(EvidenceStoreError);
    await expect(store.get(row.storageUri.replace("/evidence/", "/elsewhere/"))).rejects.toBeInstanceOf(EvidenceStoreError);
    await expect(store.put("not-a-tenant", Buffer.from("x"), "text/plain")).rejects.toBeInstanceOf(EvidenceStoreError);
    const fake: EvidenceRow = { ...row, tenantId: "00000000-0000-4000-8000-000000000000" };
    expect((await verifyEvidence(t.client, store, fake)).problems).toContain("the storage URI does not belong to the evidence's tenant");
  });

  it("the filesystem store stays the default, and s3 without a bucket is a configuration error", async () => {
    const services = await evidenceServices(testRuntime(t, { CAIRN_DATA_DIR: path.join(s3dir, "data") }));
    expect(services.store).toBeInstanceOf(FilesystemEvidenceStore);
    expect(() => parseEnv({ CAIRN_EVIDENCE_STORE: "s3" })).toThrow(InvalidEnvError);
    expect(() => parseEnv({ CAIRN_EVIDENCE_STORE: "gcs" })).toThrow(/CAIRN_EVIDENCE_STORE: must be filesystem or s3/);
    expect(() => parseEnv({ CAIRN_EVIDENCE_STORE: "s3", CAIRN_EVIDENCE_S3_BUCKET: "Bad_Bucket" })).toThrow(/CAIRN_EVIDENCE_S3_BUCKET/);
  });
});
