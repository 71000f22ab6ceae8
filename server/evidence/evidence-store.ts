// Where evidence blobs live. One interface, content-addressed by SHA-256 per tenant: the same bytes are one object,
// and an object, once written, is never replaced. The filesystem backend is the default; the S3-compatible backend
// (s3-store.ts) implements the same interface (storage URIs carry the scheme, so rows written by either stay readable).
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { isUuid } from "../../db/tenant.ts";
import type { Env } from "../config/env.ts";
import { S3EvidenceStore, tenantOfS3Uri } from "./s3-store.ts";

export interface StoredObject {
  /** Backend-qualified name of the object, e.g. `fs://<tenant_id>/ab/ab12…`. */
  storageUri: string;
  /** SHA-256 of the bytes, lower-case hex. */
  hash: string;
  size: number;
}

export interface EvidenceStore {
  /** Stores bytes for a tenant; storing the same bytes again returns the same object and writes nothing. */
  put(tenantId: string, bytes: Buffer, contentType: string): Promise<StoredObject>;
  get(storageUri: string): Promise<Buffer>;
  open(storageUri: string): Readable;
}

export class EvidenceStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvidenceStoreError";
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const FS_URI = /^fs:\/\/([0-9a-f-]{36})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The tenant a storage URI belongs to (every backend puts it first), or null for a URI this build cannot read. */
export function tenantOfStorageUri(storageUri: string): string | null {
  return FS_URI.exec(storageUri)?.[1] ?? tenantOfS3Uri(storageUri);
}

async function hashFile(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** `<root>/<tenant_id>/<sha256[0..2]>/<sha256>`; the root is `<dataDir>/evidence`. */
export class FilesystemEvidenceStore implements EvidenceStore {
  constructor(private readonly root: string) {}

  private pathOf(storageUri: string): string {
    const m = FS_URI.exec(storageUri);
    if (!m || !isUuid(m[1]!) || m[2] !== m[3]!.slice(0, 2)) throw new EvidenceStoreError(`Not a filesystem evidence URI: ${storageUri}`);
    return path.join(this.root, m[1]!, m[2]!, m[3]!);
  }

  async put(tenantId: string, bytes: Buffer, _contentType: string): Promise<StoredObject> {
    if (!isUuid(tenantId)) throw new EvidenceStoreError("Evidence is stored per tenant: a tenant uuid is required");
    const hash = sha256Hex(bytes);
    const tenant = tenantId.toLowerCase();
    const storageUri = `fs://${tenant}/${hash.slice(0, 2)}/${hash}`;
    const final = this.pathOf(storageUri);
    const dir = path.dirname(final);
    const stored = { storageUri, hash, size: bytes.length };
    if (await this.existing(final, hash)) return stored;

    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.tmp-${hash.slice(0, 8)}-${randomBytes(6).toString("hex")}`);
    const handle = await fs.open(tmp, "wx", 0o440);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      // link() refuses to replace an existing name, unlike rename(): a concurrent writer of the same bytes wins
      // and this copy is dropped, so an object is never overwritten.
      await fs.link(tmp, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        if (!(await this.existing(final, hash))) throw new EvidenceStoreError(`Evidence object ${storageUri} exists with different content: the store is damaged`);
      } else if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV") {
        // Filesystems without hard links: rename, after one more existence check.
        if (!(await this.existing(final, hash))) await fs.rename(tmp, final);
      } else {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    }
    await fs.rm(tmp, { force: true });
    await this.syncDir(dir);
    return stored;
  }

  /** True when the object is already there with the right content; throws when it is there with other content. */
  private async existing(file: string, hash: string): Promise<boolean> {
    try {
      await fs.access(file);
    } catch {
      return false;
    }
    if ((await hashFile(file)) !== hash) throw new EvidenceStoreError(`Evidence object ${path.basename(file)} exists with different content: the store is damaged`);
    return true;
  }

  private async syncDir(dir: string): Promise<void> {
    try {
      const d = await fs.open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Not every platform can fsync a directory; the file itself was synced.
    }
  }

  async get(storageUri: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(storageUri));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new EvidenceStoreError(`Evidence object ${storageUri} is missing from the store`);
      throw err;
    }
  }

  open(storageUri: string): Readable {
    return createReadStream(this.pathOf(storageUri));
  }
}

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

type StoreSettings = Pick<Env, "dataDir" | "CAIRN_EVIDENCE_STORE" | "CAIRN_EVIDENCE_S3_BUCKET" | "CAIRN_EVIDENCE_S3_PREFIX" | "CAIRN_EVIDENCE_S3_REGION" | "CAIRN_EVIDENCE_S3_ENDPOINT" | "CAIRN_EVIDENCE_S3_FORCE_PATH_STYLE">;
const stores = new Map<string, EvidenceStore>();

/**
 * The evidence store this process's settings select: the filesystem under `<dataDir>/evidence` (the default) or an
 * S3-compatible bucket (CAIRN_EVIDENCE_STORE=s3). One instance per distinct setting, so its client is reused.
 */
export function evidenceStoreFor(env: StoreSettings): EvidenceStore {
  const s3 = env.CAIRN_EVIDENCE_STORE === "s3";
  const key = s3 ? JSON.stringify(["s3", env.CAIRN_EVIDENCE_S3_BUCKET, env.CAIRN_EVIDENCE_S3_PREFIX, env.CAIRN_EVIDENCE_S3_REGION, env.CAIRN_EVIDENCE_S3_ENDPOINT, env.CAIRN_EVIDENCE_S3_FORCE_PATH_STYLE]) : JSON.stringify(["fs", env.dataDir]);
  let store = stores.get(key);
  if (!store) {
    store = s3
      ? new S3EvidenceStore({
          bucket: env.CAIRN_EVIDENCE_S3_BUCKET ?? "",
          prefix: env.CAIRN_EVIDENCE_S3_PREFIX,
          region: env.CAIRN_EVIDENCE_S3_REGION,
          endpoint: env.CAIRN_EVIDENCE_S3_ENDPOINT,
          forcePathStyle: env.CAIRN_EVIDENCE_S3_FORCE_PATH_STYLE,
        })
      : new FilesystemEvidenceStore(path.join(env.dataDir, "evidence"));
    stores.set(key, store);
  }
  return store;
}
