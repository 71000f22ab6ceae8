// The job types this build can run, and their handlers.
import type { HandlerDefinition } from "./handler.ts";

export function builtInHandlers(): HandlerDefinition[] {
  return [];
}
