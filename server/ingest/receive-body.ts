// Receiving a pushed body without holding it in memory: bytes go to a spool file (mode 0600) under the data
// directory as they arrive, hashed and counted on the way; the moment the count passes the limit the request is
// refused with 413 and the spool file removed. The first bytes are kept to sniff that the body is JSON at all.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../errors.ts";

const HEAD_BYTES = 4096;

export interface SpooledBody {
  file: string;
  sha256: string;
  size: number;
  /** The first bytes of the body. */
  head: Buffer;
  remove(): Promise<void>;
}

export function spoolDir(dataDir: string): string {
  return path.join(dataDir, "ingest-spool");
}

export async function spoolBody(req: Readable, opts: { limit: number; dir: string }): Promise<SpooledBody> {
  await fs.promises.mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.dir, `push-${Date.now()}-${randomBytes(8).toString("hex")}`);
  const hash = createHash("sha256");
  let size = 0;
  const headParts: Buffer[] = [];
  let headSize = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > opts.limit) {
        done(new AppError("PAYLOAD_TOO_LARGE", `The document is larger than the limit of ${opts.limit} bytes (CAIRN_INGEST_MAX_BYTES / CAIRN_FLEET_SYNC_MAX_BYTES)`, { limit_bytes: opts.limit }));
        return;
      }
      hash.update(chunk);
      if (headSize < HEAD_BYTES) {
        headParts.push(chunk.subarray(0, HEAD_BYTES - headSize));
        headSize += Math.min(chunk.length, HEAD_BYTES - headSize);
      }
      done(null, chunk);
    },
  });
  const remove = () => fs.promises.rm(file, { force: true });
  try {
    await pipeline(req, meter, fs.createWriteStream(file, { flags: "wx", mode: 0o600 }));
  } catch (err) {
    await remove();
    if (err instanceof AppError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (err as Error).message === "aborted") throw new AppError("INVALID_INPUT", "The request body ended before it was complete (the client went away)");
    throw err;
  }
  return { file, sha256: hash.digest("hex"), size, head: Buffer.concat(headParts), remove };
}

/** The first non-whitespace character (after a UTF-8 byte-order mark), or null for an empty body. */
export function firstSignificantChar(head: Buffer): string | null {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  for (; i < head.length; i++) {
    const c = head[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return String.fromCharCode(c);
  }
  return null;
}
