// The S3-compatible evidence backend (AWS S3 on EKS, or any server that speaks the S3 protocol): the same
// content-addressed layout as the filesystem store, `s3://<bucket>/<prefix><tenant_id>/<ab>/<sha256>`. An object,
// once written, is never replaced: a put first looks for the key (same bytes → nothing written), writes with
// `If-None-Match: *` where the server supports conditional writes, and records the SHA-256 as object metadata.
// Credentials come from the AWS SDK's default chain (environment, web identity on EKS, instance profile).
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from "@aws-sdk/client-s3";
import { PassThrough, type Readable } from "node:stream";
import { isUuid } from "../../db/tenant.ts";
import { EvidenceStoreError, sha256Hex, type EvidenceStore, type StoredObject } from "./evidence-store.ts";

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (e.g. `cairn/evidence/`); empty for the bucket root. */
  prefix: string;
  region: string;
  /** An S3-compatible server's URL; unset for AWS S3 itself. */
  endpoint?: string;
  /** Path-style addressing (`https://host/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Explicit credentials (tests); otherwise the SDK's default provider chain. */
  credentials?: S3ClientConfig["credentials"];
}

const S3_URI = /^s3:\/\/([^/]+)\/(.*)$/;
const KEY_TAIL = /(?:^|\/)([0-9a-f-]{36})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

/** The tenant an `s3://` evidence URI belongs to, or null when it is not one. */
export function tenantOfS3Uri(storageUri: string): string | null {
  const m = S3_URI.exec(storageUri);
  if (!m) return null;
  const tail = KEY_TAIL.exec(m[2]!);
  return tail && isUuid(tail[1]!) && tail[2] === tail[3]!.slice(0, 2) ? tail[1]! : null;
}

const notFound = (err: unknown) =>
  err instanceof NoSuchKey || err instanceof NotFound || (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === "NoSuchKey" || err.name === "NotFound"));

export class S3EvidenceStore implements EvidenceStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new EvidenceStoreError("The S3 evidence store needs a bucket");
    this.bucket = options.bucket;
    this.prefix = options.prefix && !options.prefix.endsWith("/") ? `${options.prefix}/` : options.prefix;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Checksums only where the operation requires them: S3-compatible servers differ in the optional ones, and
      // the evidence's own SHA-256 is what verify checks.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private keyOf(storageUri: string): string {
    const m = S3_URI.exec(storageUri);
    if (!m || m[1] !== this.bucket || !m[2]!.startsWith(this.prefix) || tenantOfS3Uri(storageUri) === null) {
      throw new EvidenceStoreError(`Not an evidence URI of bucket ${this.bucket}${this.prefix ? ` under ${this.prefix}` : ""}: ${storageUri}`);
    }
    return m[2]!;
  }

  async put(tenantId: string, bytes: Buffer, contentType: string): Promise<StoredObject> {
    if (!isUuid(tenantId)) throw new EvidenceStoreError("Evidence is stored per tenant: a tenant uuid is required");
    const hash = sha256Hex(bytes);
    const key = `${this.prefix}${tenantId.toLowerCase()}/${hash.slice(0, 2)}/${hash}`;
    const stored = { storageUri: `s3://${this.bucket}/${key}`, hash, size: bytes.length };
    if (await this.existing(key, hash, bytes.length)) return stored;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          ContentLength: bytes.length,
          IfNoneMatch: "*",
          Metadata: { sha256: hash, tenant: tenantId.toLowerCase() },
        }),
      );
    } catch (err) {
      // 412: another writer stored the same key first; it must hold the same bytes.
      if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.$metadata.httpStatusCode === 409)) {
        if (await this.existing(key, hash, bytes.length)) return stored;
      }
      throw err;
    }
    return stored;
  }

  /** True when the object is there with the recorded hash and size; throws when it is there with other content. */
  private async existing(key: string, hash: string, size: number): Promise<boolean> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      if (head.ContentLength !== size || (head.Metadata?.sha256 && head.Metadata.sha256 !== hash)) {
        throw new EvidenceStoreError(`Evidence object s3://${this.bucket}/${key} exists with different content: the store is damaged`);
      }
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  async get(storageUri: string): Promise<Buffer> {
    const key = this.keyOf(storageUri);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (notFound(err)) throw new EvidenceStoreError(`Evidence object ${storageUri} is missing from the store`);
      throw err;
    }
  }

  open(storageUri: string): Readable {
    const out = new PassThrough();
    let key: string;
    try {
      key = this.keyOf(storageUri);
    } catch (err) {
      process.nextTick(() => out.destroy(err as Error));
      return out;
    }
    this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })).then(
      (res) => {
        const body = res.Body as Readable;
        body.on("error", (err) => out.destroy(err));
        body.pipe(out);
      },
      (err) => out.destroy(notFound(err) ? new EvidenceStoreError(`Evidence object ${storageUri} is missing from the store`) : (err as Error)),
    );
    return out;
  }
}
