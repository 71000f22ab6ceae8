// What the server hands every Remix loader and action (see server/http/app.ts). Types only: no server code reaches the browser.
import type { Caller } from "../../server/trpc/caller-type.ts";

declare module "@remix-run/node" {
  interface AppLoadContext {
    requestId: string;
    cspNonce: string;
    /** Server-side tRPC caller: loaders and actions go through the same procedures (and checks) as the browser and REST. */
    caller: Caller;
  }

  // Loaders return plain objects (single fetch is on in remix.config.js); this lets useLoaderData<typeof loader>() type them so.
  interface Future {
    v3_singleFetch: true;
  }
}

export {};
