// Per-request tRPC context: the request id, a child logger and the process runtime.
import type { Logger } from "../logger.ts";
import type { Runtime } from "../runtime.ts";

export interface TrpcContext {
  requestId: string;
  log: Logger;
  rt: Runtime;
  /** Where the call came from: the browser's tRPC client, the REST adapter, or a Remix loader/action. */
  via: "trpc" | "rest" | "loader";
}

export function createContextFactory(rt: Runtime) {
  return (opts: { requestId: string; log?: Logger; via: TrpcContext["via"] }): TrpcContext => ({
    requestId: opts.requestId,
    log: (opts.log ?? rt.log).child({ requestId: opts.requestId }),
    rt,
    via: opts.via,
  });
}
