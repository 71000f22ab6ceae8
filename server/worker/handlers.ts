// The job types this build can run, and their handlers.
import type { HandlerDefinition } from "./handler.ts";
import { sourceCollectHandler } from "./handlers/source-collect.ts";
import { ingestProcessHandler } from "../ingest/process-push.ts";
import { rematerializeHandler } from "../findings/rematerialize.handler.ts";

export function builtInHandlers(): HandlerDefinition[] {
  return [sourceCollectHandler, rematerializeHandler, ingestProcessHandler];
}
