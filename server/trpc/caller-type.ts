import type { createCaller } from "./router.ts";

export type Caller = ReturnType<typeof createCaller>;
