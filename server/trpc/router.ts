// The application router: every domain router is mounted here, and REST (/v1) is generated from the same tree.
import { router, createCallerFactory } from "./init.ts";
import { systemRouter } from "./routers/system.ts";

export const appRouter = router({
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
