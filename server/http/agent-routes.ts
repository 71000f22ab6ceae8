// The node agent's REST interface under /v1/agent: every request is signed with the node's Ed25519 key over the raw
// body's hash, a timestamp and a nonce (server/domain/fabric/agent-protocol.ts), so these are plain Express routes
// that see the exact bytes, not tRPC procedures. Join redemptions are signed with the key in their own body (proof of
// possession); everything after approval with the node's current identity key.
import express, { Router, type Request, type Response } from "express";
import { z } from "zod";
import { withPlatform } from "../../db/tenant.ts";
import { agentReportedStatuses, reportedWorkloadStates } from "../../db/schema/index.ts";
import type { Runtime } from "../runtime.ts";
import { AppError, describeIssues } from "../errors.ts";
import { sendError } from "./rest.ts";
import { toAppError } from "../trpc/init.ts";
import { chargeAddress } from "../domain/auth/rate-limit.ts";
import { recordAudit } from "../domain/audit/audit-writer.service.ts";
import { AgentRefused, asAuthenticatedNode, authenticateJoinPoll, authenticateNode, readSignedRequest, verifyJoinProof, type AgentPrincipal } from "../domain/fabric/agent-auth.service.ts";
import { JoinRefused, joinRequestStatusForAgent, openJoinRequest } from "../domain/fabric/join-requests.service.ts";
import { keyFingerprint, rotationProofValid } from "../domain/fabric/agent-protocol.ts";
import { recordHeartbeat } from "../domain/fabric/heartbeat.service.ts";
import { signedDesiredStateFor } from "../domain/fabric/desired-state.service.ts";
import { rotateIdentityForAgent } from "../domain/fabric/node-identities.service.ts";
import { claimJobs, completeJob, failJob, jobEvents, releaseJobs } from "../domain/fabric/agent-jobs.service.ts";

const shortText = (max: number) => z.string().trim().min(1, "required").max(max, `at most ${max} characters`);
const record = (maxKeys: number) => z.record(z.string().max(100), z.unknown()).refine((r) => Object.keys(r).length <= maxKeys, `at most ${maxKeys} entries`);
const uuid = z.uuid("must be a uuid");

const joinBody = z
  .object({
    token: z.string().min(1, "required").max(100),
    cluster: z.string().trim().min(1).max(100).nullable().optional(),
    node_name: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, ., _ and -, up to 63 characters"),
    hostname: shortText(253),
    machine_id: z.string().trim().max(128).nullable().optional(),
    facts: record(64).default({}),
    capabilities: record(64).default({}),
    requested_roles: z.array(shortText(64)).max(16).optional(),
    agent_version: shortText(64),
    public_key: z.string().min(40).max(60),
  })
  .strict();

const heartbeatBody = z
  .object({
    status: z.enum(agentReportedStatuses),
    agent_version: shortText(64),
    started_at: z.iso.datetime().optional(),
    snapshot_version: z.number().int().min(0).nullable(),
    capabilities: record(64),
    facts: record(64).optional(),
    workloads: z
      .array(z.object({ type: shortText(64), state: z.enum(reportedWorkloadStates), version: z.string().max(64).optional(), detail: record(32).optional() }).strict())
      .max(16),
    running_jobs: z.array(z.object({ job_id: uuid, tenant_id: uuid, job_type: shortText(100), started_at: z.string().max(40) }).strict()).max(256),
    degraded: z.object({ reason: shortText(200), since: z.string().max(40).optional(), offline_seconds: z.number().min(0).optional() }).strict().nullable().optional(),
  })
  .strict();

const claimBody = z.object({ limit: z.number().int().min(1).max(16).default(1), job_types: z.array(shortText(100)).max(16).optional() }).strict();
const eventsBody = z
  .object({
    tenant_id: uuid,
    logs: z.array(z.object({ level: z.enum(["debug", "info", "warn", "error"]), message: z.string().max(8_192) }).strict()).max(500).default([]),
  })
  .strict();
const completeBody = z
  .object({
    tenant_id: uuid,
    output: z
      .object({
        items: z.number().int().min(0),
        summary: record(200),
        graph: z.object({ assets: z.array(z.unknown()), relations: z.array(z.unknown()), findings: z.array(z.unknown()) }).strict(),
        artifacts: z.array(z.object({ kind: shortText(100), content_type: shortText(200), body_base64: z.string() }).strict()).max(100),
        warnings: z.array(z.object({ message: z.string().max(8_192), where: z.string().max(1_000).optional() }).strict()).max(10_000),
      })
      .strict(),
  })
  .strict();
const failBody = z.object({ tenant_id: uuid, error: shortText(8_192), transient: z.boolean().default(false), status: z.enum(["failed", "cancelled", "timed_out"]).default("failed") }).strict();
const releaseBody = z.object({ job_ids: z.array(uuid).min(1).max(64) }).strict();
const rotateBody = z.object({ public_key: z.string().min(40).max(60), proof: z.string().min(40).max(200) }).strict();

function parse<T>(schema: z.ZodType<T>, raw: Buffer): T {
  let value: unknown = {};
  if (raw.length) {
    try {
      value = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      throw new AppError("INVALID_INPUT", `body: not valid JSON (${(err as Error).message})`);
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError("INVALID_INPUT", describeIssues(result.error.issues));
  return result.data;
}

function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function signed(req: Request) {
  return readSignedRequest({ method: req.method, path: req.originalUrl, header: (n) => req.get(n) }, rawBody(req));
}

export function agentRoutes(rt: Runtime): Router {
  const r = Router();
  r.use(express.raw({ type: () => true, limit: rt.env.CAIRN_BODY_LIMIT_BYTES }));

  /** Runs an agent endpoint: label, errors in the contract's shape. */
  const route = (label: string, fn: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
    res.locals.routeLabel = `/v1/agent${label}`;
    try {
      const body = await fn(req, res);
      if (!res.headersSent) res.json(body);
    } catch (err) {
      sendError(res, toAppError(err));
    }
  };
  /** A node-signed endpoint: authenticates, then hands over the principal. */
  const node = (label: string, fn: (req: Request, principal: AgentPrincipal, res: Response) => Promise<unknown>) =>
    route(label, async (req, res) => fn(req, await authenticateNode(rt.db, signed(req), req.ip ?? null), res));

  r.post(
    "/join",
    route("/join", async (req, res) => {
      // Redemptions per address and minute: the token secret is not guessable; this bounds the noise (and the audit).
      await chargeAddress(rt.db.sql, "agent_join", req.ip ?? null, rt.env.CAIRN_AGENT_JOIN_RATE_PER_MINUTE);
      const s = signed(req);
      const body = parse(joinBody, rawBody(req));
      if (body.requested_roles?.some((role) => !/^[a-z0-9-]+$/.test(role))) throw new AppError("INVALID_INPUT", "requested_roles: role names are lowercase letters, digits and -");
      await verifyJoinProof(rt.db, s, body.public_key);
      try {
        const { request, cluster, duplicate } = await withPlatform(rt.db, (tx) => openJoinRequest(tx, rt.secret, body, req.ip ?? null));
        res.status(duplicate ? 200 : 201);
        return { request_id: request.id, status: request.status, cluster: { id: cluster.id, slug: cluster.slug, name: cluster.name }, poll_after_seconds: 2, duplicate };
      } catch (err) {
        if (err instanceof JoinRefused) {
          await recordAudit(rt.db, {
            tenantId: null,
            actor: `join-key:${keyFingerprint(body.public_key).slice(0, 16)}`,
            actorType: "node",
            ip: req.ip ?? null,
            targetType: "join_token",
            targetId: err.tokenId,
            action: "join_request.create",
            outcome: "denied",
            details: { reason: err.reason, hostname: body.hostname, node_name: body.node_name },
          });
        }
        throw err;
      }
    }),
  );

  r.get(
    "/join/:id",
    route("/join/{id}", async (req) => {
      const request = await authenticateJoinPoll(rt.db, signed(req), req.params.id!);
      return withPlatform(rt.db, (tx) => joinRequestStatusForAgent(tx, request));
    }),
  );

  r.post(
    "/heartbeat",
    route("/heartbeat", async (req) => {
      const raw = rawBody(req);
      const s = signed(req);
      let probe: unknown = null;
      try {
        probe = JSON.parse(raw.toString("utf8") || "null");
      } catch {
        /* reported by parse() below */
      }
      // Authentication and the heartbeat's writes share one transaction: this is the path every node takes every 10 s.
      return asAuthenticatedNode(rt.db, s, req.ip ?? null, async (tx, principal) => {
        if (probe && typeof probe === "object" && ("roles" in probe || "role_assignments" in probe)) {
          await recordAudit(rt.db, { tenantId: null, actor: `node:${principal.node.id}`, actorType: "node", ip: req.ip ?? null, targetType: "node", targetId: principal.node.id, action: "node.role_assign", outcome: "denied", details: { reason: "node_self_service" } });
          throw new AppError("FORBIDDEN", "A node cannot assign or report its own roles: role assignments are made by a platform owner", { reason: "node_self_service" });
        }
        return recordHeartbeat(tx, principal, parse(heartbeatBody, raw), req.ip ?? null);
      });
    }),
  );

  r.get(
    "/desired-state",
    node("/desired-state", async (req, principal) => {
      const asked = typeof req.query.node_id === "string" ? req.query.node_id : null;
      if (asked && asked !== principal.node.id) {
        await recordAudit(rt.db, { tenantId: null, actor: `node:${principal.node.id}`, actorType: "node", ip: req.ip ?? null, targetType: "node", targetId: asked, action: "node.desired_state_read", outcome: "denied", details: { reason: "other_node" } });
        throw new AppError("FORBIDDEN", "A node may read only its own desired state", { reason: "other_node" });
      }
      return withPlatform(rt.db, (tx) => signedDesiredStateFor(tx, rt.secret, principal));
    }),
  );

  r.post(
    "/rotate",
    node("/rotate", async (req, principal) => {
      const body = parse(rotateBody, rawBody(req));
      if (!rotationProofValid(principal.identity.id, body.public_key, body.proof)) throw new AgentRefused("UNAUTHENTICATED", "Proof of possession of the new key failed", "proof_of_possession_failed");
      return withPlatform(rt.db, (tx) => rotateIdentityForAgent(tx, rt.secret, principal, body.public_key, req.ip ?? null));
    }),
  );

  r.post(
    "/jobs/claim",
    node("/jobs/claim", async (req, principal) => claimJobs(rt, principal, parse(claimBody, rawBody(req)))),
  );
  r.post(
    "/jobs/release",
    node("/jobs/release", async (req, principal) => releaseJobs(rt, principal, parse(releaseBody, rawBody(req)).job_ids)),
  );
  r.post(
    "/jobs/:id/events",
    node("/jobs/{id}/events", async (req, principal) => jobEvents(rt, principal, jobIdParam(req), parse(eventsBody, rawBody(req)))),
  );
  r.post(
    "/jobs/:id/complete",
    node("/jobs/{id}/complete", async (req, principal) => completeJob(rt, principal, jobIdParam(req), parse(completeBody, rawBody(req)))),
  );
  r.post(
    "/jobs/:id/fail",
    node("/jobs/{id}/fail", async (req, principal) => failJob(rt, principal, jobIdParam(req), parse(failBody, rawBody(req)))),
  );

  r.use((req, res) => {
    res.locals.routeLabel = "/v1/agent/*";
    sendError(res, new AppError("NOT_FOUND", `No route ${req.method} ${req.baseUrl}${req.path}`));
  });
  return r;
}

function jobIdParam(req: Request): string {
  const id = req.params.id ?? "";
  if (!uuid.safeParse(id).success) throw new AppError("INVALID_INPUT", "id: must be a job id (uuid)");
  return id;
}
