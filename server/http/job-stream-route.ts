// GET /v1/jobs/{id}/stream — Server-Sent Events with a job's log lines and status, fed by LISTEN/NOTIFY.
// Authorization goes through the same procedures as everything else (jobs.get / jobs.logs via the caller).
// Reconnecting clients send Last-Event-ID (the last log line id) and get only what they missed.
import { Router, type Request, type Response } from "express";
import type { Runtime } from "../runtime.ts";
import type { TrpcContext } from "../trpc/context.ts";
import { createCaller } from "../trpc/router.ts";
import { toAppError } from "../trpc/init.ts";
import { sendError } from "./rest.ts";
import { EVENTS_CHANNEL } from "../queue/enqueue.ts";

type Listener = (event: { job_id: string; run_id: string | null; kind: string }) => void;

/** One LISTEN connection per process, fanned out to every open stream. */
class EventHub {
  private listeners = new Map<string, Set<Listener>>();
  private started: Promise<unknown> | undefined;
  constructor(private readonly rt: Runtime) {}

  subscribe(jobId: string, fn: Listener): () => void {
    this.started ??= this.rt.db.sql.listen(EVENTS_CHANNEL, (payload) => {
      try {
        const event = JSON.parse(payload) as { job_id: string; run_id: string | null; kind: string };
        for (const l of this.listeners.get(event.job_id) ?? []) l(event);
      } catch {
        /* not ours */
      }
    });
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (!set!.size) this.listeners.delete(jobId);
    };
  }

  ready(): Promise<unknown> {
    return this.started ?? Promise.resolve();
  }
}

const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);

export function jobStreamRoute(rt: Runtime, createContext: (req: Request, res: Response) => Promise<TrpcContext>): Router {
  const hub = new EventHub(rt);
  const r = Router();
  r.get("/jobs/:id/stream", async (req, res) => {
    res.locals.routeLabel = "/v1/jobs/{id}/stream";
    let caller: ReturnType<typeof createCaller>;
    let status: string;
    const jobId = req.params.id!;
    try {
      caller = createCaller(await createContext(req, res));
      status = (await caller.jobs.get({ id: jobId })).status;
    } catch (err) {
      sendError(res, toAppError(err));
      return;
    }
    res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    let lastId = Number(req.get("last-event-id") ?? req.query.after ?? 0) || 0;
    let closed = false;
    let pumping = Promise.resolve();
    const send = (event: string, data: unknown, id?: number) => {
      if (closed) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const pump = () => {
      pumping = pumping.then(async () => {
        if (closed) return;
        try {
          for (;;) {
            const { items } = await caller.jobs.logs({ id: jobId, after_id: lastId, limit: 500 });
            for (const line of items) {
              lastId = line.id;
              send("log", line, line.id);
            }
            if (items.length < 500) break;
          }
          const job = await caller.jobs.get({ id: jobId });
          if (job.status !== status) {
            status = job.status;
            send("status", { status: job.status, attempts: job.attempts, last_error: job.last_error, run_id: job.run_id });
          }
          if (FINAL.has(job.status)) {
            send("end", { status: job.status });
            close();
          }
        } catch (err) {
          send("error", { message: toAppError(err).message });
          close();
        }
      });
    };
    const unsubscribe = hub.subscribe(jobId, () => pump());
    const keepAlive = setInterval(() => !closed && res.write(": keep-alive\n\n"), 15_000);
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
      res.end();
    };
    // Remix/Express: a client going away is seen on the response, not the request.
    res.on("close", close);
    await hub.ready();
    send("status", { status });
    pump();
  });
  return r;
}
