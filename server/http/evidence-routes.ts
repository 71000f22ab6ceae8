// GET /v1/evidence/{id}/content: an evidence object's bytes, streamed from the store. Authorization goes through the
// evidence.authorizeContent procedure (the same path as tRPC and REST) before a byte is read; only the streaming
// lives here, because the generated REST adapter answers JSON.
//
// Evidence content comes from connectors and pushes, so the browser must never render it as a page of Cairn's
// origin: it is always an attachment, with nosniff and a sandboxing CSP, and only types that cannot execute keep
// their recorded Content-Type (the rest are sent as application/octet-stream).
import { pipeline } from "node:stream/promises";
import { Router, type Request, type Response } from "express";
import type { Runtime } from "../runtime.ts";
import type { TrpcContext } from "../trpc/context.ts";
import { createCaller } from "../trpc/router.ts";
import { toAppError } from "../trpc/init.ts";
import { AppError } from "../errors.ts";
import { sendError } from "./rest.ts";
import { EvidenceStoreError, evidenceStoreFor } from "../evidence/evidence-store.ts";

export interface EvidenceRouteDeps {
  rt: Runtime;
  createContext: (req: Request, res: Response) => Promise<TrpcContext>;
}

const INERT_TYPES = /^(application\/(json|[a-z0-9.+-]+\+json|x-ndjson|octet-stream|gzip|zip|x-tar)|text\/(plain|csv))$/;

/** The Content-Type to send: the recorded one when it cannot run in a browser, else a plain byte stream. */
export function downloadContentType(recorded: string): string {
  const type = recorded.split(";")[0]!.trim().toLowerCase();
  return INERT_TYPES.test(type) ? type : "application/octet-stream";
}

/** evidence-<id>.<ext>: an extension the recorded type suggests, so a saved file opens in the right tool. */
export function downloadFilename(evidenceId: string, contentType: string): string {
  const type = downloadContentType(contentType);
  const ext = type === "application/json" || type.endsWith("+json") ? "json" : type === "application/x-ndjson" ? "ndjson" : type === "text/plain" ? "txt" : type === "text/csv" ? "csv" : "bin";
  return `evidence-${evidenceId}.${ext}`;
}

export function evidenceRoutes(deps: EvidenceRouteDeps): Router {
  const r = Router();
  r.get("/evidence/:id/content", async (req, res) => {
    res.locals.routeLabel = "/v1/evidence/{id}/content";
    let info: Awaited<ReturnType<ReturnType<typeof createCaller>["evidence"]["authorizeContent"]>>;
    try {
      if (Object.keys(req.query).length > 0) throw new AppError("INVALID_INPUT", `input: this route takes no parameters (got ${Object.keys(req.query).join(", ")})`);
      const ctx = await deps.createContext(req, res);
      info = await createCaller(ctx).evidence.authorizeContent({ id: req.params.id! });
    } catch (err) {
      sendError(res, toAppError(err));
      return;
    }
    // The first bytes (or the end) before any header: a blob missing from the store is still a JSON error.
    const body = evidenceStoreFor(deps.rt.env).open(info.storage_uri);
    try {
      await new Promise<void>((resolve, reject) => {
        body.once("readable", resolve);
        body.once("error", reject);
      });
    } catch (err) {
      body.destroy();
      const missing = err instanceof EvidenceStoreError || (err as NodeJS.ErrnoException).code === "ENOENT";
      if (!missing) deps.rt.log.error({ err, evidence_id: info.evidence_id }, "evidence download could not read the store");
      sendError(res, missing ? new AppError("NOT_FOUND", "The evidence object is missing from the store (verify it to see what is wrong)") : toAppError(err));
      return;
    }
    res.status(200);
    res.setHeader("Content-Type", downloadContentType(info.content_type));
    res.setHeader("Content-Length", String(info.size));
    res.setHeader("Content-Disposition", `attachment; filename="${downloadFilename(info.evidence_id, info.content_type)}"`);
    res.setHeader("X-Content-SHA256", info.hash);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Content-Security-Policy", "default-src 'none'; sandbox");
    res.setHeader("Cache-Control", "no-store");
    try {
      await pipeline(body, res);
    } catch (err) {
      // Headers are gone: the connection is cut, and the client sees fewer bytes than Content-Length promised.
      if (!res.destroyed) res.destroy();
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") deps.rt.log.error({ err, evidence_id: info.evidence_id }, "evidence download failed");
    }
  });
  return r;
}
