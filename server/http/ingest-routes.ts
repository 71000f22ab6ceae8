// Push ingest over HTTP: POST /v1/results/push and POST /v1/fleet/sync stream their bodies (so they are plain routes,
// mounted ahead of the JSON body parser and its 1 MiB limit), and GET /v1/results/receipts/{id}/raw streams the raw
// document back. Authorization goes through tRPC procedures (receipts.authorizePush, fleet.authorizeSync,
// receipts.authorizeRaw) before a byte of the body is read, so REST, tRPC and the UI share one path.
//
// Order of refusals: 413 on a declared Content-Length over the limit (nothing read), 400 without an Idempotency-Key,
// 415 for a compressed or non-JSON content type, 401/403/404/409 from authorization, then the body is spooled (413
// the moment it passes the limit) and a receipt is returned with 202.
import fs from "node:fs";
import { Router, type Request, type RequestHandler, type Response } from "express";
import { pipeline } from "node:stream/promises";
import type { Runtime } from "../runtime.ts";
import type { TrpcContext } from "../trpc/context.ts";
import { createCaller } from "../trpc/router.ts";
import { toAppError } from "../trpc/init.ts";
import { actorOf } from "../domain/auth/identity.ts";
import { AppError } from "../errors.ts";
import { sendError } from "./rest.ts";
import { withTenant, isUuid } from "../../db/tenant.ts";
import { evidence, ingestReceipts } from "../../db/schema/index.ts";
import { eq } from "drizzle-orm";
import { evidenceServices, prepareEvidence } from "../evidence/evidence.service.ts";
import { acceptPush, checkIdempotencyKey, RAW_EVIDENCE_KIND, type IngestChannel } from "../ingest/receipt.service.ts";
import { presentReceipt } from "../ingest/receipt.presenter.ts";
import { firstSignificantChar, spoolBody, spoolDir } from "../ingest/receive-body.ts";
import { fleetSyncBody, type FleetSyncBody } from "../ingest/fleet/fleet-inventory.ts";
import { recordEndpointSeen } from "../ingest/fleet/fleet.service.ts";

export interface IngestRouteDeps {
  rt: Runtime;
  createContext: (req: Request, res: Response) => Promise<TrpcContext>;
  /** The same-origin check for state-changing requests that ride on the session cookie. */
  guard: RequestHandler;
}

/** Header naming the source when the query string does not (some CI tools cannot add query parameters). */
export const SOURCE_HEADER = "x-cairn-source-id";

const ACCEPTED_TYPES = /^(application\/(json|sarif\+json|vnd\.cyclonedx\+json|spdx\+json|octet-stream|x-ndjson)|text\/plain)$/;

function sourceIdOf(req: Request): string {
  const fromQuery = typeof req.query.source_id === "string" ? req.query.source_id : undefined;
  const fromHeader = req.get(SOURCE_HEADER);
  const id = fromQuery ?? fromHeader;
  if (!id) throw new AppError("INVALID_INPUT", `source_id: required, as a query parameter (?source_id=…) or the ${SOURCE_HEADER} header`, { field: "source_id" });
  if (!isUuid(id)) throw new AppError("INVALID_INPUT", "source_id: must be a source id", { field: "source_id" });
  if (fromQuery && fromHeader && fromQuery !== fromHeader) throw new AppError("INVALID_INPUT", `source_id: the query parameter and the ${SOURCE_HEADER} header name different sources`, { field: "source_id" });
  return id;
}

function contentTypeOf(req: Request): string {
  const encoding = (req.get("content-encoding") ?? "identity").toLowerCase();
  if (encoding !== "identity") throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Encoding ${encoding} is not accepted: send the document uncompressed`);
  const raw = req.get("content-type");
  if (!raw) return "application/json";
  const type = raw.split(";")[0]!.trim().toLowerCase();
  if (!ACCEPTED_TYPES.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type ${type} is not accepted: push SARIF 2.1.0, CycloneDX 1.4–1.6 or SPDX 2.3 as JSON (application/json)`, { content_type: type });
  }
  return type === "application/octet-stream" || type === "text/plain" ? "application/json" : type;
}

/** After refusing a request whose body was not read: close the connection instead of draining a large body. */
function refuseUnread(req: Request, res: Response, err: AppError) {
  if (!req.readableEnded) {
    res.setHeader("Connection", "close");
    res.on("finish", () => req.socket?.destroySoon?.());
  }
  sendError(res, err);
}

export function ingestRoutes(deps: IngestRouteDeps): Router {
  const r = Router();
  const { rt } = deps;

  const push = (channel: IngestChannel) => async (req: Request, res: Response) => {
    res.locals.routeLabel = channel === "result_push" ? "/v1/results/push" : "/v1/fleet/sync";
    const limit = channel === "result_push" ? rt.env.CAIRN_INGEST_MAX_BYTES : rt.env.CAIRN_FLEET_SYNC_MAX_BYTES;
    let bodyRead = false;
    try {
      const declared = req.get("content-length");
      if (declared !== undefined && Number(declared) > limit) {
        throw new AppError("PAYLOAD_TOO_LARGE", `The document is ${declared} bytes; the limit is ${limit} bytes (${channel === "result_push" ? "CAIRN_INGEST_MAX_BYTES" : "CAIRN_FLEET_SYNC_MAX_BYTES"})`, { limit_bytes: limit });
      }
      const idempotencyKey = checkIdempotencyKey(req.get("idempotency-key"));
      const contentType = contentTypeOf(req);
      const sourceId = sourceIdOf(req);
      const ctx = await deps.createContext(req, res);
      const caller = createCaller(ctx);
      const target = channel === "result_push" ? await caller.receipts.authorizePush({ source_id: sourceId }) : await caller.fleet.authorizeSync({ source_id: sourceId });

      bodyRead = true;
      const spooled = await spoolBody(req, { limit, dir: spoolDir(rt.env.dataDir) });
      try {
        const first = firstSignificantChar(spooled.head);
        if (first === null) throw new AppError("INVALID_INPUT", "The body is empty: push a SARIF, CycloneDX or SPDX JSON document");
        if (first !== "{") {
          throw new AppError("UNSUPPORTED_MEDIA_TYPE", `The body is not a JSON object (it starts with ${JSON.stringify(first)}): push SARIF 2.1.0, CycloneDX 1.4–1.6 or SPDX 2.3 as JSON`, { first_character: first });
        }
        // Fleet syncs are small and validated at the door, so a bad one is a 400 naming the field.
        let fleet: FleetSyncBody | null = null;
        if (channel === "fleet_sync") {
          let body: unknown;
          try {
            body = JSON.parse(await fs.promises.readFile(spooled.file, "utf8"));
          } catch (e) {
            throw new AppError("INVALID_INPUT", `body: not valid JSON (${(e as Error).message})`);
          }
          const parsed = fleetSyncBody.safeParse(body);
          if (!parsed.success) {
            throw new AppError("INVALID_INPUT", parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "body"}: ${i.message}`).join("; "), { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
          }
          fleet = parsed.data;
        }

        // The raw document becomes evidence before anything else happens to it: content-addressed and signed.
        // The store takes whole buffers; the body is read back from the spool once, bounded by the limit.
        const services = await evidenceServices(rt);
        const bytes = await fs.promises.readFile(spooled.file);
        const raw = await prepareEvidence({ tenantId: target.tenant_id, jobId: null, runId: null, sourceId: target.source_id, kind: RAW_EVIDENCE_KIND[channel], contentType, body: bytes }, services);
        if (raw.hash !== spooled.sha256) throw new Error("the stored document does not hash to what was received");

        const { actor, actorType } = actorOf(ctx.identity);
        const { receipt, duplicate } = await withTenant(rt.db, target.tenant_id, (tx) =>
          acceptPush(tx, {
            tenantId: target.tenant_id,
            sourceId: target.source_id,
            channel,
            idempotencyKey,
            raw,
            contentType,
            requestedBy: actor,
            audit: { actor, actorType, requestId: ctx.requestId, ip: ctx.ip },
            onAccepted: fleet
              ? async (tx, receipt) => {
                  const endpointId = await recordEndpointSeen(tx, { tenantId: target.tenant_id, sourceId: target.source_id, body: fleet, ip: ctx.ip, receiptId: receipt.id, at: receipt.receivedAt });
                  await tx.update(ingestReceipts).set({ endpointId }).where(eq(ingestReceipts.id, receipt.id));
                  receipt.endpointId = endpointId;
                }
              : undefined,
          }),
        );
        res.status(202).json({ ...presentReceipt(receipt), duplicate });
      } finally {
        await spooled.remove();
      }
    } catch (err) {
      const app = toAppError(err);
      if (app.code === "INTERNAL") rt.log.error({ err, route: res.locals.routeLabel }, "push failed");
      if (bodyRead && app.code !== "PAYLOAD_TOO_LARGE") sendError(res, app);
      else refuseUnread(req, res, app);
    }
  };

  r.post("/results/push", deps.guard, push("result_push"));
  r.post("/fleet/sync", deps.guard, push("fleet_sync"));

  r.get("/results/receipts/:id/raw", async (req, res) => {
    res.locals.routeLabel = "/v1/results/receipts/{id}/raw";
    let info: { tenant_id: string; evidence_id: string; sha256: string; size: number; content_type: string; filename: string };
    let storageUri: string;
    try {
      const ctx = await deps.createContext(req, res);
      info = await createCaller(ctx).receipts.authorizeRaw({ id: req.params.id! });
      const [row] = await withTenant(rt.db, info.tenant_id, (tx) => tx.select({ storageUri: evidence.storageUri }).from(evidence).where(eq(evidence.id, info.evidence_id)));
      if (!row) throw new AppError("NOT_FOUND", "The raw document of this receipt is not in the evidence store");
      storageUri = row.storageUri;
    } catch (err) {
      sendError(res, toAppError(err));
      return;
    }
    const services = await evidenceServices(rt);
    res.status(200);
    res.setHeader("Content-Type", info.content_type);
    res.setHeader("Content-Length", String(info.size));
    res.setHeader("Content-Disposition", `attachment; filename="${info.filename}"`);
    res.setHeader("X-Content-SHA256", info.sha256);
    res.setHeader("Cache-Control", "no-store");
    try {
      await pipeline(services.store.open(storageUri), res);
    } catch (err) {
      if (!res.destroyed) res.destroy();
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") rt.log.error({ err }, "raw document download failed");
    }
  });

  return r;
}
