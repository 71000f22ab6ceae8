// Read-only views the fabric pages need beyond the fabric router: revoked nodes that keep calling (from the platform
// audit chain). Platform owners only.
import { z } from "zod";
import { platformProcedure, router } from "../init.ts";
import { revokedNodeActivity } from "../../domain/fabric/revoked-activity.presenter.ts";

const activityView = z.object({
  node_id: z.string(),
  node_name: z.string(),
  revoked: z.boolean(),
  refusals: z.number().int().describe("Audited refusals; at most one a minute per node is audited"),
  first_refused_at: z.string(),
  last_refused_at: z.string(),
  last_ip: z.string().nullable(),
  last_path: z.string().nullable(),
});

export const fabricUiRouter = router({
  revokedActivity: platformProcedure
    .meta({
      permission: "read:fabric",
      openapi: { method: "GET", path: "/fabric/revoked-activity", tags: ["fabric"], summary: "Revoked nodes whose requests were refused recently (still calling after revocation)" },
    })
    .input(z.object({ hours: z.coerce.number().int().min(1, "at least 1").max(168, "at most 168 (7 days)").default(24) }).strict().optional())
    .output(z.object({ items: z.array(activityView), next_cursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => ({ items: await ctx.inPlatform((tx) => revokedNodeActivity(tx, { hours: input?.hours ?? 24 })), next_cursor: null })),
});
