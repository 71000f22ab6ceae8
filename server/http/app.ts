// The Express application of `cairn web`/`cairn all`: probes, metrics, tRPC, REST, static assets and the Remix UI.
import path from "node:path";
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import type { Runtime } from "../runtime.ts";
import { requestId } from "./request-id.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { healthRoutes } from "./health.ts";
import { restRouter, sendError } from "./rest.ts";
import { oidcRoutes } from "./oidc-routes.ts";
import { auditExportRoute } from "./audit-export-route.ts";
import { jobStreamRoute } from "./job-stream-route.ts";
import { ingestRoutes } from "./ingest-routes.ts";
import { agentRoutes } from "./agent-routes.ts";
import { evidenceRoutes } from "./evidence-routes.ts";
import { appRouter, createCaller } from "../trpc/router.ts";
import { createContextFactory, type RequestFacts } from "../trpc/context.ts";
import { AppError, errorBody } from "../errors.ts";
import { toAppError } from "../trpc/init.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const serverBuildPath = path.join(root, "build", "index.js");

export class MissingBuildError extends Error {}

/** CAIRN_TRUST_PROXY: "true"/"false", a hop count, or Express's names/addresses ("loopback", "10.0.0.0/8, uniquelocal"). */
function trustProxySetting(value: string): boolean | number | string {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

async function loadRemixBuild(): Promise<ServerBuild> {
  if (!fs.existsSync(serverBuildPath)) {
    throw new MissingBuildError("The UI build is missing (build/index.js): run `npm run build` (npm start does this for you).");
  }
  return (await import(pathToFileURL(serverBuildPath).href)) as ServerBuild;
}

/** Rejects bodies whose declared length is over the limit before anything reads them (chunked bodies are bounded by the parsers). */
function bodyLimit(limit: number): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.get("content-length") ?? 0);
    if (declared > limit) {
      res.locals.routeLabel ??= "body-limit";
      res.setHeader("Connection", "close");
      sendError(res, new AppError("PAYLOAD_TOO_LARGE", `Request body is ${declared} bytes; the limit is ${limit} bytes`, { limit_bytes: limit }));
      req.resume();
      return;
    }
    next();
  };
}

/** What a context needs from an Express request, whichever door it came through. */
export function requestFacts(req: Request, res: Response, via: "trpc" | "rest" | "loader"): RequestFacts {
  return {
    requestId: res.locals.requestId as string,
    log: (res as unknown as { log?: Runtime["log"] }).log,
    via,
    cookie: req.headers.cookie,
    authorization: req.headers.authorization,
    ip: req.ip ?? null,
    userAgent: req.get("user-agent") ?? null,
    idempotencyKey: req.get("idempotency-key")?.slice(0, 200) ?? null,
    setCookie: (cookie) => res.append("Set-Cookie", cookie),
  };
}

/**
 * CSRF: a state-changing request that rides on the session cookie must come from our own origin.
 * Requests with an Authorization header (API keys) carry no ambient credentials and are exempt.
 */
function sameOriginMutations(publicUrl: string): RequestHandler {
  const allowed = new URL(publicUrl).origin;
  return (req, res, next) => {
    if (["GET", "HEAD", "OPTIONS"].includes(req.method) || req.headers.authorization || !req.headers.cookie?.includes("cairn_session=")) return next();
    const origin = req.get("origin") ?? (req.get("referer") ? new URL(req.get("referer")!).origin : undefined);
    const own = `${req.protocol}://${req.get("host")}`;
    if (origin && (origin === allowed || origin === own)) return next();
    res.locals.routeLabel ??= "csrf";
    sendError(res, new AppError("FORBIDDEN", "Cross-origin request refused: state-changing requests must come from Cairn's own pages", { origin: origin ?? null }));
  };
}

export interface WebApp {
  app: express.Express;
  metrics: Metrics;
}

export async function createWebApp(rt: Runtime, opts: { applicationName: string; withUi: boolean }): Promise<WebApp> {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", trustProxySetting(rt.env.CAIRN_TRUST_PROXY));
  const metrics = createMetrics(rt, opts.applicationName);
  const contextFor = createContextFactory(rt);
  const limit = rt.env.CAIRN_BODY_LIMIT_BYTES;

  app.use(requestId);
  app.use(metrics.httpMiddleware);
  app.use(
    pinoHttp({
      logger: rt.log,
      genReqId: (_req, res) => (res as unknown as Response).locals.requestId as string,
      autoLogging: { ignore: (req) => ["/healthz", "/readyz", "/metrics"].includes(req.url ?? "") || (req.url ?? "").startsWith("/build/") },
      // Every enrolled node heartbeats every 10 s: a successful heartbeat is logged at debug, not info.
      customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : ((req as { originalUrl?: string }).originalUrl ?? req.url) === "/v1/agent/heartbeat" ? "debug" : "info"),
      serializers: {
        req: (req: { id: string; method: string; url: string; headers: Record<string, string> }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          // Credentials are never logged; only their presence is.
          headers: { "user-agent": req.headers["user-agent"], authorization: req.headers.authorization ? "[REDACTED]" : undefined, cookie: req.headers.cookie ? "[REDACTED]" : undefined },
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString("base64");
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce as string}'`],
          "style-src": ["'self'", "'unsafe-inline'"],
          "img-src": ["'self'", "data:"],
          "connect-src": ["'self'"],
          "upgrade-insecure-requests": null,
        },
      },
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: rt.env.publicUrl.startsWith("https://"),
    }),
  );
  // Push ingest streams large bodies under its own limits (CAIRN_INGEST_MAX_BYTES, CAIRN_FLEET_SYNC_MAX_BYTES), so it
  // is mounted ahead of the general body limit; it applies the same-origin check to its own routes.
  app.use("/v1", ingestRoutes({ rt, guard: sameOriginMutations(rt.env.publicUrl), createContext: (req: Request, res: Response) => contextFor(requestFacts(req, res, "rest")) }));
  app.use(bodyLimit(limit));
  app.use(sameOriginMutations(rt.env.publicUrl));

  app.use(healthRoutes(rt, metrics));

  app.use(
    "/api/trpc",
    (req, res, next) => {
      res.locals.routeLabel = `/api/trpc/${req.path.replace(/^\//, "").split(",").length > 1 ? "batch" : req.path.replace(/^\//, "")}`;
      next();
    },
    createExpressMiddleware({
      router: appRouter,
      maxBodySize: limit,
      // Errors that carry headers (Retry-After on 429) send them on tRPC responses too.
      responseMeta({ errors }) {
        const headers: Record<string, string> = {};
        for (const e of errors) Object.assign(headers, toAppError(e).headers ?? {});
        return Object.keys(headers).length ? { headers } : {};
      },
      createContext: ({ req, res }) => contextFor(requestFacts(req, res, "trpc")),
    }),
  );

  // The streamed export is a plain route; it authorizes through the same procedures (audit.beginExport).
  // A cookie-authenticated export must be a same-site navigation: a cross-site GET cannot start one.
  app.use("/v1/audit/export", (req, res, next) => {
    const site = req.get("sec-fetch-site");
    if (!req.headers.authorization && req.headers.cookie?.includes("cairn_session=") && site && site !== "same-origin" && site !== "none") {
      sendError(res, new AppError("FORBIDDEN", "Cross-site export refused: start the export from Cairn's Audit page"));
      return;
    }
    next();
  });
  // Node agents sign their requests over the exact body bytes, so their routes read the raw body themselves.
  app.use("/v1/agent", agentRoutes(rt));
  app.use("/v1", jobStreamRoute(rt, (req: Request, res: Response) => contextFor(requestFacts(req, res, "rest"))));
  app.use("/v1", auditExportRoute({ createContext: (req: Request, res: Response) => contextFor(requestFacts(req, res, "rest")) }));
  app.use("/v1", evidenceRoutes({ rt, createContext: (req: Request, res: Response) => contextFor(requestFacts(req, res, "rest")) }));
  app.use(
    "/v1",
    restRouter({
      createContext: (req: Request, res: Response) => contextFor(requestFacts(req, res, "rest")),
      bodyLimitBytes: limit,
      publicUrl: rt.env.publicUrl,
    }),
  );

  app.use(oidcRoutes(rt));

  if (opts.withUi) {
    const build = await loadRemixBuild();
    app.use("/build", (_req, res, next) => {
      res.locals.routeLabel = "/build/*";
      next();
    }, express.static(path.join(root, "public", "build"), { immutable: true, maxAge: "1y" }));
    app.use(express.static(path.join(root, "public"), { maxAge: "1h", index: false }));
    app.all(
      "*",
      (_req, res, next) => {
        res.locals.routeLabel = "remix";
        next();
      },
      createRequestHandler({
        build,
        mode: rt.env.NODE_ENV === "production" ? "production" : "development",
        getLoadContext: async (req, res) => {
          const ctx = await contextFor(requestFacts(req, res, "loader"));
          return { requestId: ctx.requestId, cspNonce: res.locals.cspNonce as string, caller: createCaller(ctx) };
        },
      }),
    );
  }

  const errorHandler: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, req, res, _next) => {
    let app: AppError;
    if (err?.type === "entity.too.large") app = new AppError("PAYLOAD_TOO_LARGE", `Request body is over the limit of ${limit} bytes`, { limit_bytes: limit });
    else if (err?.type === "entity.parse.failed") app = new AppError("INVALID_INPUT", `body: not valid JSON (${err.message ?? "parse error"})`);
    else if (err?.type === "encoding.unsupported" || err?.type === "charset.unsupported") app = new AppError("UNSUPPORTED_MEDIA_TYPE", err.message ?? "Unsupported body encoding");
    else {
      rt.log.error({ err, url: req.originalUrl }, "unhandled request error");
      app = new AppError("INTERNAL", "Internal error");
    }
    if (res.headersSent) return;
    res.status(app.status).json(errorBody(app.code, app.message, app.details, res.locals.requestId as string | undefined));
  };
  app.use(errorHandler);

  return { app, metrics };
}
