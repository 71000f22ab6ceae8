// GET /v1/audit/export: the tenant's audit chain streamed as JSON Lines with a signed head. Authorization and the
// `audit.export` event go through the audit.beginExport procedure (the same path as tRPC and REST); only the
// streaming lives here, because the generated REST adapter answers JSON.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router, type Request, type Response } from "express";
import { createCaller } from "../trpc/router.ts";
import { toAppError } from "../trpc/init.ts";
import type { TrpcContext } from "../trpc/context.ts";
import { AppError } from "../errors.ts";
import { sendError } from "./rest.ts";
import { auditExportLines } from "../domain/audit/audit-export.service.ts";
import { tenantChain } from "../domain/audit/chain-reader.ts";
import { signingKey } from "../domain/audit/signing-key.service.ts";

export interface AuditExportRouteDeps {
  createContext: (req: Request, res: Response) => Promise<TrpcContext>;
}

export function auditExportRoute(deps: AuditExportRouteDeps): Router {
  const r = Router();
  r.get("/audit/export", async (req, res) => {
    res.locals.routeLabel = "/v1/audit/export";
    let ctx: TrpcContext;
    let lines: AsyncGenerator<string>;
    let filename: string;
    try {
      if (Object.keys(req.query).length > 0) throw new AppError("INVALID_INPUT", `input: this route takes no parameters (got ${Object.keys(req.query).join(", ")})`);
      ctx = await deps.createContext(req, res);
      const started = await createCaller(ctx).audit.beginExport();
      const key = await signingKey(ctx.rt.db, ctx.rt.secret, "audit");
      lines = auditExportLines(tenantChain(ctx.rt.db, started.tenant_id), started, key);
      filename = started.filename;
    } catch (err) {
      sendError(res, toAppError(err));
      return;
    }
    res.status(200);
    res.setHeader("Content-Type", "application/x-ndjson; charset=utf-8");
    res.setHeader("Content-Disposition", `attachment; filename="${filename}"`);
    res.setHeader("Cache-Control", "no-store");
    try {
      await pipeline(Readable.from(lines), res);
    } catch (err) {
      // Headers are gone, so no JSON error: the connection is cut and the file ends without its head line,
      // which `cairn audit verify` reports as incomplete.
      if (!res.destroyed) res.destroy();
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") ctx.log.error({ err }, "audit export stream failed");
    }
  });
  return r;
}
