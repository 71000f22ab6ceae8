// The application router: every domain router is mounted here, and REST (/v1) is generated from the same tree.
import { router, createCallerFactory } from "./init.ts";
import { systemRouter } from "./routers/system.ts";
import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { membersRouter } from "./routers/members.ts";
import { apiKeysRouter } from "./routers/api-keys.ts";
import { tenantRouter } from "./routers/tenant.ts";
import { platformRouter } from "./routers/platform.ts";
import { passkeyRouter } from "./routers/passkeys.ts";
import { sourcesRouter } from "./routers/sources.ts";
import { credentialsRouter } from "./routers/credentials.ts";
import { jobsRouter } from "./routers/jobs.ts";
import { runsRouter } from "./routers/runs.ts";
import { nodesRouter } from "./routers/nodes.ts";
import { schedulesRouter } from "./routers/schedules.ts";
import { connectorsRouter } from "./routers/connectors.ts";
import { receiptsRouter } from "./routers/receipts.ts";
import { fleetRouter } from "./routers/fleet.ts";
import { fabricRouter } from "./routers/fabric.ts";
import { fabricUiRouter } from "./routers/fabric-ui.ts";
import { findingsRouter } from "./routers/findings.ts";
import { policiesRouter } from "./routers/policies.ts";
import { evidenceRouter } from "./routers/evidence.ts";

export const appRouter = router({
  system: systemRouter,
  audit: auditRouter,
  auth: authRouter,
  members: membersRouter,
  apiKeys: apiKeysRouter,
  tenant: tenantRouter,
  platform: platformRouter,
  passkeys: passkeyRouter,
  sources: sourcesRouter,
  credentials: credentialsRouter,
  jobs: jobsRouter,
  runs: runsRouter,
  nodes: nodesRouter,
  schedules: schedulesRouter,
  connectors: connectorsRouter,
  fabric: fabricRouter,
  fabricUi: fabricUiRouter,
  findings: findingsRouter,
  policies: policiesRouter,
  receipts: receiptsRouter,
  fleet: fleetRouter,
  evidence: evidenceRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
