// REST under /v1, generated from the tRPC procedures that carry OpenAPI meta. Requests run through the same
// server-side caller as tRPC and Remix loaders, so there is one authorization path; errors use the contract's shape.
import express, { Router, type Request, type Response } from "express";
import { generateOpenApiDocument } from "trpc-to-openapi";
import type { AnyProcedure } from "@trpc/server";
import { appRouter, createCaller } from "../trpc/router.ts";
import { toAppError } from "../trpc/init.ts";
import type { Meta } from "../trpc/init.ts";
import type { TrpcContext } from "../trpc/context.ts";
import { AppError, errorBody } from "../errors.ts";
import { version } from "../version.ts";

interface RestRoute {
  method: "get" | "post" | "put" | "patch" | "delete";
  openapiPath: string;
  expressPath: string;
  procedurePath: string;
  type: "query" | "mutation" | "subscription";
  successStatus: number;
}

export function restRoutes(): RestRoute[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
  const routes: RestRoute[] = [];
  for (const [procedurePath, procedure] of Object.entries(procedures)) {
    const def = procedure._def as { meta?: Meta & { rest?: { successStatus?: number } }; type: RestRoute["type"] };
    const openapi = def.meta?.openapi;
    if (!openapi || openapi.enabled === false) continue;
    routes.push({
      method: openapi.method.toLowerCase() as RestRoute["method"],
      openapiPath: openapi.path,
      expressPath: openapi.path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1"),
      procedurePath,
      type: def.type,
      successStatus: def.meta?.rest?.successStatus ?? 200,
    });
  }
  return routes;
}

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", description: "AppError code, e.g. INVALID_INPUT, NOT_FOUND, STEP_UP_REQUIRED" },
        message: { type: "string" },
        details: {},
        request_id: { type: "string" },
      },
    },
  },
} as const;

let cachedDoc: unknown;

/** The OpenAPI 3 document for /v1, with every error response rewritten to the contract's error shape. */
export function openApiDocument(baseUrl: string): unknown {
  if (cachedDoc) return cachedDoc;
  const doc = generateOpenApiDocument(appRouter, {
    title: "Cairn API",
    description: "REST interface of the Cairn control plane. Errors are {\"error\": {\"code\", \"message\", \"details\"}}.",
    version,
    baseUrl: `${baseUrl}/v1`,
    securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "API key: cairn_<id>_<secret>" } },
  }) as { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components?: Record<string, Record<string, unknown>> };
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (!/^[2]/.test(status) && response.content?.["application/json"]) {
          response.content["application/json"].schema = { $ref: "#/components/schemas/Error" };
        }
      }
    }
  }
  doc.components ??= {};
  doc.components.schemas = { ...(doc.components.schemas ?? {}), Error: errorSchema };
  cachedDoc = doc;
  return doc;
}

function queryInput(req: Request): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(req.query)) input[key] = value;
  return input;
}

export function sendError(res: Response, err: AppError) {
  for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
  res.status(err.status).json(errorBody(err.code, err.message, err.details, res.locals.requestId as string | undefined));
}

export function restRouter(opts: { createContext: (req: Request, res: Response) => Promise<TrpcContext>; bodyLimitBytes: number; publicUrl: string }): Router {
  const r = Router();
  r.use(express.json({ limit: opts.bodyLimitBytes, strict: false }));

  r.get("/openapi.json", (_req, res) => {
    res.locals.routeLabel = "/v1/openapi.json";
    res.json(openApiDocument(opts.publicUrl));
  });

  for (const route of restRoutes()) {
    r[route.method](route.expressPath, async (req, res) => {
      res.locals.routeLabel = `/v1${route.openapiPath}`;
      try {
        const ctx = await opts.createContext(req, res);
        let input: Record<string, unknown> | undefined;
        if (route.method === "get" || route.method === "delete") {
          input = { ...queryInput(req), ...req.params };
        } else {
          const body = req.body as unknown;
          if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
            throw new AppError("INVALID_INPUT", "body: must be a JSON object");
          }
          input = { ...((body as Record<string, unknown>) ?? {}), ...req.params };
        }
        if (input && Object.keys(input).length === 0) input = undefined;
        const caller = createCaller(ctx) as unknown as Record<string, unknown>;
        const fn = route.procedurePath.split(".").reduce<unknown>((acc, key) => (acc as Record<string, unknown>)[key], caller) as (i: unknown) => Promise<unknown>;
        const data = await fn(input);
        res.status(route.successStatus).json(data);
      } catch (err) {
        sendError(res, toAppError(err));
      }
    });
  }

  r.use((req, res) => {
    res.locals.routeLabel = "/v1/*";
    sendError(res, new AppError("NOT_FOUND", `No route ${req.method} ${req.baseUrl}${req.path}`));
  });
  return r;
}
