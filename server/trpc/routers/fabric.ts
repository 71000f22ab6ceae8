// The fabric for platform owners — clusters and their trust, join tokens and requests, enrolled nodes with their
// roles, workloads and groups, the overview and topology — and one safe view for organizations. Trust-changing
// actions are high-risk (step-up). docs/fabric.md has the procedure reference for the UI.
import { z } from "zod";
import { queryBoolean } from "../query-boolean.ts";
import { platformProcedure, requireStepUp, router, tenantProcedure } from "../init.ts";
import { clusterAuthorityStates, joinRequestStatuses, joinTokenScopes } from "../../../db/schema/index.ts";
import type { TrpcContext } from "../context.ts";
import type { Actor } from "../../domain/fabric/fabric-context.ts";
import { createCluster, recoverCluster, setClusterAuthority, updateCluster } from "../../domain/fabric/clusters.service.ts";
import { clusterTrust, getCluster, listClusters, listNodeGroups } from "../../domain/fabric/clusters.presenter.ts";
import { createJoinToken, revokeJoinToken } from "../../domain/fabric/join-tokens.service.ts";
import { getJoinRequest, listJoinRequests, listJoinTokens, presentToken } from "../../domain/fabric/enrollment.presenter.ts";
import { approveJoinRequests, rejectJoinRequests } from "../../domain/fabric/join-requests.service.ts";
import { getFabricNode, listFabricNodes, listRoleAssignments, nodeAuditTimeline, nodeHeartbeatHistory } from "../../domain/fabric/fabric-nodes.presenter.ts";
import { assignRole, removeRole, setWorkloadPaused } from "../../domain/fabric/role-assignments.service.ts";
import { revokeNode } from "../../domain/fabric/node-identities.service.ts";
import { createNodeGroup, deleteNodeGroup, setNodeGroup, updateNodeGroup } from "../../domain/fabric/node-groups.service.ts";
import { fabricOverview, fabricTopology, tenantFabricStatus } from "../../domain/fabric/fabric-overview.presenter.ts";
import { workloadRoles } from "../../domain/fabric/workload-catalog.ts";
import {
  auditItemView,
  clusterId,
  clusterView,
  fabricNodeView,
  groupView,
  healthEnum,
  heartbeatView,
  joinRequestView,
  joinTokenView,
  nodeDetailView,
  nodeId,
  overviewView,
  page,
  pageOf,
  requestId,
  roleView,
  tenantStatusView,
  topologyView,
  trustView,
  workloadView,
} from "./fabric-schemas.ts";

const actor = (ctx: TrpcContext & { audit: { actor: string; actorType: Actor["actorType"] } }): Actor => ({ actor: ctx.audit.actor, actorType: ctx.audit.actorType });
const text = (max: number) => z.string().trim().min(1, "required").max(max, `at most ${max} characters`);
const reason = text(500).describe("Why: recorded in the audit log");
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lowercase letters, digits and dashes, 2–63 characters");
const fingerprint = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "a key fingerprint is 64 hex characters (SHA-256 of the raw public key)")
  .transform((v) => v.toLowerCase());

// ------------------------------------------------------------------------------------------------------ clusters

const clustersRouter = router({
  list: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/clusters", tags: ["fabric"], summary: "Clusters with authority state, CA and node health counts" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(clusterView), next_cursor: z.string().nullable() }))
    .query(async ({ ctx }) => ({ items: await ctx.inPlatform((tx) => listClusters(tx)), next_cursor: null })),

  get: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/clusters/{id}", tags: ["fabric"], summary: "One cluster" } })
    .input(z.object({ id: clusterId }).strict())
    .output(clusterView)
    .query(({ ctx, input }) => ctx.inPlatform((tx) => getCluster(tx, input.id))),

  create: platformProcedure
    .meta({ permission: "manage:cluster", openapi: { method: "POST", path: "/clusters", tags: ["fabric"], summary: "Create a cluster (a trust domain with its own CA)" }, rest: { successStatus: 201 } })
    .input(
      z
        .object({
          slug,
          name: text(200),
          description: z.string().trim().max(2000).optional(),
          region: z.string().trim().max(100).optional(),
          cert_ttl_hours: z.number().int().min(1).max(8760).optional().describe("Lifetime of node certificates (default 720 h)"),
        })
        .strict(),
    )
    .output(clusterView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const c = await createCluster(tx, ctx.rt.secret, input, actor(ctx), ctx.auditIn);
        return getCluster(tx, c.id);
      }),
    ),

  update: platformProcedure
    .meta({ permission: "manage:cluster", openapi: { method: "PUT", path: "/clusters/{id}", tags: ["fabric"], summary: "Change a cluster's labels or certificate lifetime (the latter is policy: step-up, and refused unless the cluster is healthy)" } })
    .input(
      z
        .object({ id: clusterId, name: text(200).optional(), description: z.string().trim().max(2000).optional(), region: z.string().trim().max(100).optional(), cert_ttl_hours: z.number().int().min(1).max(8760).optional() })
        .strict(),
    )
    .output(clusterView)
    .mutation(async ({ ctx, input, path }) => {
      // The certificate lifetime is trust policy: changing it needs a step-up; labels do not.
      if (input.cert_ttl_hours !== undefined) await requireStepUp(ctx, null, path);
      return ctx.inPlatform(async (tx) => {
        const { id, ...fields } = input;
        await updateCluster(tx, id, fields, ctx.auditIn);
        return getCluster(tx, id);
      });
    }),

  setAuthority: platformProcedure
    .meta({
      permission: "manage:cluster_authority",
      highRisk: true,
      openapi: { method: "POST", path: "/clusters/{id}/authority", tags: ["fabric"], summary: "Mark a cluster degraded or partitioned: it then refuses approvals, certificates, role and policy changes" },
    })
    .input(z.object({ id: clusterId, state: z.enum(clusterAuthorityStates.filter((s) => s !== "healthy") as ["degraded", "partitioned"]), reason }).strict())
    .output(clusterView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        await setClusterAuthority(tx, input.id, { state: input.state, reason: input.reason }, actor(ctx), ctx.auditIn);
        return getCluster(tx, input.id);
      }),
    ),

  recover: platformProcedure
    .meta({ permission: "manage:cluster_authority", highRisk: true, openapi: { method: "POST", path: "/clusters/{id}/recover", tags: ["fabric"], summary: "Recover a degraded or partitioned cluster to healthy" } })
    .input(z.object({ id: clusterId, reason }).strict())
    .output(clusterView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        await recoverCluster(tx, input.id, { reason: input.reason }, actor(ctx), ctx.auditIn);
        return getCluster(tx, input.id);
      }),
    ),

  trust: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/clusters/{id}/trust", tags: ["fabric"], summary: "The cluster's CA certificate and the node certificates it issued (public material only)" } })
    .input(z.object({ id: clusterId }).strict())
    .output(trustView)
    .query(({ ctx, input }) => ctx.inPlatform((tx) => clusterTrust(tx, input.id))),

  groups: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/clusters/{id}/groups", tags: ["fabric"], summary: "Node groups of a cluster (flat, with parent ids)" } })
    .input(z.object({ id: clusterId }).strict())
    .output(z.object({ items: z.array(groupView), next_cursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => ({ items: await ctx.inPlatform((tx) => listNodeGroups(tx, input.id)), next_cursor: null })),

  createGroup: platformProcedure
    .meta({ permission: "manage:node_group", openapi: { method: "POST", path: "/clusters/{id}/groups", tags: ["fabric"], summary: "Create a node group (a folder; never a permission)" }, rest: { successStatus: 201 } })
    .input(z.object({ id: clusterId, name: text(100), parent_id: z.uuid("must be a group id").nullable().optional(), description: z.string().trim().max(1000).optional() }).strict())
    .output(groupView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const g = await createNodeGroup(tx, { cluster_id: input.id, name: input.name, parent_id: input.parent_id, description: input.description }, actor(ctx), ctx.auditIn);
        return (await listNodeGroups(tx, input.id)).find((x) => x.group_id === g.id)!;
      }),
    ),

  updateGroup: platformProcedure
    .meta({ permission: "manage:node_group", openapi: { method: "PUT", path: "/node-groups/{id}", tags: ["fabric"], summary: "Rename or describe a node group" } })
    .input(z.object({ id: z.uuid("must be a group id"), name: text(100).optional(), description: z.string().trim().max(1000).optional() }).strict())
    .output(groupView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const g = await updateNodeGroup(tx, { group_id: input.id, name: input.name, description: input.description }, ctx.auditIn);
        return (await listNodeGroups(tx, g.clusterId)).find((x) => x.group_id === g.id)!;
      }),
    ),

  deleteGroup: platformProcedure
    .meta({ permission: "manage:node_group", openapi: { method: "DELETE", path: "/node-groups/{id}", tags: ["fabric"], summary: "Delete a node group without child groups; its nodes become ungrouped" } })
    .input(z.object({ id: z.uuid("must be a group id") }).strict())
    .output(z.object({ group_id: z.string(), nodes_ungrouped: z.number() }))
    .mutation(({ ctx, input }) => ctx.inPlatform((tx) => deleteNodeGroup(tx, input.id, ctx.auditIn))),
});

// ------------------------------------------------------------------------------------------------------ join tokens

const joinTokensRouter = router({
  list: platformProcedure
    .meta({ permission: "manage:join_token", highRisk: true, openapi: { method: "GET", path: "/clusters/{id}/join-tokens", tags: ["fabric"], summary: "Join tokens of a cluster (never their secrets)" } })
    .input(z.object({ id: clusterId, ...page }).strict())
    .output(pageOf(joinTokenView))
    .query(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const result = await listJoinTokens(tx, input.id, input);
        await ctx.auditIn(tx, { targetType: "cluster", targetId: input.id, action: "join_token.list", outcome: "success", details: { returned: result.items.length } });
        return result;
      }),
    ),

  create: platformProcedure
    .meta({
      permission: "manage:join_token",
      highRisk: true,
      openapi: { method: "POST", path: "/clusters/{id}/join-tokens", tags: ["fabric"], summary: "Create a join token: `token` (id.secret) is shown once" },
      rest: { successStatus: 201 },
    })
    .input(
      z
        .object({
          id: clusterId,
          ttl_seconds: z
            .number()
            .int()
            .min(60, "at least 60")
            .max(7 * 86_400, "at most 604800 (7 days)")
            .default(3_600),
          max_uses: z.number().int().min(1, "at least 1").max(1000, "at most 1000").default(1),
          scope: z.enum(joinTokenScopes).default("join").describe("join: every redemption waits for approval. bootstrap: approved on redemption (≤ 24 h, ≤ 10 uses)"),
          description: z.string().trim().max(500).optional(),
          bind_hostname: z.string().trim().min(1).max(253).nullable().optional(),
          bind_machine_id: z.string().trim().min(1).max(128).nullable().optional(),
          bind_key_fingerprint: fingerprint.nullable().optional(),
        })
        .strict(),
    )
    .output(joinTokenView.extend({ token: z.string().describe("id.secret — shown once, store it now") }))
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const { id, ...rest } = input;
        const { token, row } = await createJoinToken(tx, id, rest, actor(ctx), ctx.auditIn);
        return { ...presentToken(row), token };
      }),
    ),

  revoke: platformProcedure
    .meta({ permission: "manage:join_token", highRisk: true, openapi: { method: "DELETE", path: "/join-tokens/{id}", tags: ["fabric"], summary: "Revoke a join token (later redemptions are refused)" } })
    .input(z.object({ id: z.string().regex(/^[a-z0-9]{6}$/, "must be a join token id (6 characters a-z, 0-9)") }).strict())
    .output(joinTokenView)
    .mutation(({ ctx, input }) => ctx.inPlatform(async (tx) => presentToken(await revokeJoinToken(tx, input.id, actor(ctx), ctx.auditIn)))),
});

// ------------------------------------------------------------------------------------------------------ join requests

const approved = z.object({ request_id: z.string(), node_id: z.string(), node_name: z.string(), identity_id: z.string(), certificate_serial: z.string(), certificate_not_after: z.string() });
const idList = z.array(requestId).min(1, "select at least one request").max(100, "at most 100 at once");

const joinRequestsRouter = router({
  list: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/join-requests", tags: ["fabric"], summary: "Join requests, newest first: verified facts apart from claimed ones" } })
    .input(z.object({ status: z.enum(joinRequestStatuses).optional(), cluster_id: clusterId.optional(), ...page }).strict().optional())
    .output(pageOf(joinRequestView))
    .query(({ ctx, input }) => ctx.inPlatform((tx) => listJoinRequests(tx, input ?? {}))),

  get: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/join-requests/{id}", tags: ["fabric"], summary: "One join request" } })
    .input(z.object({ id: requestId }).strict())
    .output(joinRequestView)
    .query(({ ctx, input }) => ctx.inPlatform((tx) => getJoinRequest(tx, input.id))),

  approve: platformProcedure
    .meta({ permission: "review:join_request", highRisk: true, openapi: { method: "POST", path: "/join-requests/{id}/approve", tags: ["fabric"], summary: "Approve: creates the node and issues its certificate" } })
    .input(z.object({ id: requestId }).strict())
    .output(z.object({ approved: z.array(approved) }))
    .mutation(({ ctx, input }) => ctx.inPlatform(async (tx) => ({ approved: await approveJoinRequests(tx, ctx.rt.secret, [input.id], actor(ctx), ctx.auditIn) }))),

  approveBatch: platformProcedure
    .meta({ permission: "review:join_request", highRisk: true, openapi: { method: "POST", path: "/join-requests/approve", tags: ["fabric"], summary: "Approve a selection with one step-up (all or nothing)" } })
    .input(z.object({ ids: idList }).strict())
    .output(z.object({ approved: z.array(approved) }))
    .mutation(({ ctx, input }) => ctx.inPlatform(async (tx) => ({ approved: await approveJoinRequests(tx, ctx.rt.secret, input.ids, actor(ctx), ctx.auditIn) }))),

  reject: platformProcedure
    .meta({ permission: "review:join_request", highRisk: true, openapi: { method: "POST", path: "/join-requests/{id}/reject", tags: ["fabric"], summary: "Reject a join request" } })
    .input(z.object({ id: requestId, reason }).strict())
    .output(z.object({ rejected: z.array(z.object({ request_id: z.string(), status: z.literal("rejected") })) }))
    .mutation(({ ctx, input }) => ctx.inPlatform(async (tx) => ({ rejected: await rejectJoinRequests(tx, [input.id], input.reason, actor(ctx), ctx.auditIn) }))),

  rejectBatch: platformProcedure
    .meta({ permission: "review:join_request", highRisk: true, openapi: { method: "POST", path: "/join-requests/reject", tags: ["fabric"], summary: "Reject a selection with one step-up (all or nothing)" } })
    .input(z.object({ ids: idList, reason }).strict())
    .output(z.object({ rejected: z.array(z.object({ request_id: z.string(), status: z.literal("rejected") })) }))
    .mutation(({ ctx, input }) => ctx.inPlatform(async (tx) => ({ rejected: await rejectJoinRequests(tx, input.ids, input.reason, actor(ctx), ctx.auditIn) }))),
});

// ------------------------------------------------------------------------------------------------------ nodes

const nodesRouter = router({
  list: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/fabric/nodes", tags: ["fabric"], summary: "Enrolled nodes with cluster, health, identity, roles and workloads" } })
    .input(
      z
        .object({
          cluster_id: clusterId.optional(),
          group_id: z.uuid().optional(),
          health: healthEnum.optional(),
          include_revoked: queryBoolean().optional(),
          ...page,
        })
        .strict()
        .optional(),
    )
    .output(pageOf(fabricNodeView))
    .query(({ ctx, input }) => ctx.inPlatform((tx) => listFabricNodes(tx, input ?? {}))),

  get: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/nodes/{id}", tags: ["fabric"], summary: "One node: identity, membership, health, capabilities, roles, workloads, heartbeats" } })
    .input(z.object({ id: nodeId }).strict())
    .output(nodeDetailView)
    .query(({ ctx, input }) => ctx.inPlatform((tx) => getFabricNode(tx, input.id))),

  heartbeats: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/nodes/{id}/heartbeats", tags: ["fabric"], summary: "A node's heartbeat history (bounded), newest first" } })
    .input(z.object({ id: nodeId, ...page }).strict())
    .output(pageOf(heartbeatView))
    .query(({ ctx, input }) => ctx.inPlatform((tx) => nodeHeartbeatHistory(tx, input.id, input))),

  audit: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/nodes/{id}/audit", tags: ["fabric"], summary: "A node's audit timeline (platform chain), newest first" } })
    .input(z.object({ id: nodeId, ...page }).strict())
    .output(pageOf(auditItemView))
    .query(({ ctx, input }) => ctx.inPlatform((tx) => nodeAuditTimeline(tx, input.id, input))),

  assignRole: platformProcedure
    .meta({ permission: "assign:node_role", highRisk: true, openapi: { method: "POST", path: "/nodes/{id}/roles", tags: ["fabric"], summary: "Assign a role (per cluster, optionally for one organization)" }, rest: { successStatus: 201 } })
    .input(
      z
        .object({
          id: nodeId,
          role: z.enum(Object.keys(workloadRoles) as [string, ...string[]]),
          tenant_id: z.uuid("must be an organization (tenant) id").nullable().optional().describe("Omit or null: every organization"),
          cluster_id: clusterId.optional().describe("Needed only when the node belongs to several clusters"),
          job_types: z.array(text(100)).max(16).optional().describe("Narrow the role's job types"),
        })
        .strict(),
    )
    .output(roleView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const row = await assignRole(tx, { node_id: input.id, role: input.role, tenant_id: input.tenant_id ?? null, cluster_id: input.cluster_id, job_types: input.job_types }, actor(ctx), ctx.auditIn);
        return (await getFabricNode(tx, input.id)).roles.find((r) => r.assignment_id === row.id)!;
      }),
    ),

  removeRole: platformProcedure
    .meta({ permission: "assign:node_role", highRisk: true, openapi: { method: "DELETE", path: "/nodes/{id}/roles", tags: ["fabric"], summary: "Remove a role assignment (assignment_id)" } })
    .input(z.object({ id: nodeId, assignment_id: z.uuid("must be a role assignment id"), reason: z.string().trim().max(500).optional() }).strict())
    .output(roleView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        const row = await removeRole(tx, { node_id: input.id, assignment_id: input.assignment_id, reason: input.reason }, actor(ctx), ctx.auditIn);
        return (await getFabricNode(tx, input.id)).removed_roles.find((r) => r.assignment_id === row.id)!;
      }),
    ),

  setWorkload: platformProcedure
    .meta({ permission: "manage:workload", highRisk: true, openapi: { method: "POST", path: "/nodes/{id}/workloads/{type}", tags: ["fabric"], summary: "Pause or resume a workload without touching its role" } })
    .input(z.object({ id: nodeId, type: z.enum(Object.keys(workloadRoles) as [string, ...string[]]), paused: z.boolean(), cluster_id: clusterId.optional() }).strict())
    .output(workloadView)
    .mutation(({ ctx, input }) =>
      ctx.inPlatform(async (tx) => {
        await setWorkloadPaused(tx, { node_id: input.id, service_type: input.type, paused: input.paused, cluster_id: input.cluster_id }, actor(ctx), ctx.auditIn);
        return (await getFabricNode(tx, input.id)).workloads.find((w) => w.type === input.type)!;
      }),
    ),

  setGroup: platformProcedure
    .meta({ permission: "manage:node_group", openapi: { method: "PUT", path: "/nodes/{id}/group", tags: ["fabric"], summary: "Put the node's membership of a cluster into a group (or none)" } })
    .input(z.object({ id: nodeId, cluster_id: clusterId, group_id: z.uuid("must be a group id").nullable() }).strict())
    .output(z.object({ node_id: z.string(), cluster_id: z.string(), group_id: z.string().nullable() }))
    .mutation(({ ctx, input }) => ctx.inPlatform((tx) => setNodeGroup(tx, { node_id: input.id, cluster_id: input.cluster_id, group_id: input.group_id }, ctx.auditIn))),

  revoke: platformProcedure
    .meta({ permission: "revoke:node", highRisk: true, openapi: { method: "POST", path: "/nodes/{id}/revoke", tags: ["fabric"], summary: "Revoke a node's identity: its next request is refused and its claims stop" } })
    .input(z.object({ id: nodeId, reason }).strict())
    .output(z.object({ node_id: z.string(), revoked_at: z.string(), identities_revoked: z.number(), roles_removed: z.number() }))
    .mutation(({ ctx, input }) => ctx.inPlatform((tx) => revokeNode(tx, input.id, { reason: input.reason }, actor(ctx), ctx.auditIn))),
});

// ------------------------------------------------------------------------------------------------------ roles & views

const rolesRouter = router({
  catalog: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/fabric/roles", tags: ["fabric"], summary: "Roles a node can be assigned, the capability each needs and the job types it runs" } })
    .input(z.object({}).strict().optional())
    .output(z.object({ items: z.array(z.object({ role: z.string(), description: z.string(), capability: z.string(), job_types: z.array(z.string()) })), next_cursor: z.string().nullable() }))
    .query(() => ({ items: Object.values(workloadRoles).map((r) => ({ role: r.role, description: r.description, capability: r.capability, job_types: r.jobTypes })), next_cursor: null })),

  list: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/role-assignments", tags: ["fabric"], summary: "Role assignments across the fabric, newest first" } })
    .input(
      z
        .object({ cluster_id: clusterId.optional(), tenant_id: z.uuid().optional(), role: z.string().max(64).optional(), status: z.enum(["active", "removed"]).optional(), ...page })
        .strict()
        .optional(),
    )
    .output(pageOf(roleView.extend({ node_name: z.string() })))
    .query(({ ctx, input }) => ctx.inPlatform((tx) => listRoleAssignments(tx, input ?? {}))),
});

export const fabricRouter = router({
  overview: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/fabric/overview", tags: ["fabric"], summary: "Clusters, nodes by health, pending requests, role coverage gaps, workload health, risky states" } })
    .input(z.object({}).strict().optional())
    .output(overviewView)
    .query(({ ctx }) => ctx.inPlatform((tx) => fabricOverview(tx))),

  topology: platformProcedure
    .meta({ permission: "read:fabric", openapi: { method: "GET", path: "/fabric/topology", tags: ["fabric"], summary: "Clusters, groups, nodes and the organizations they serve, as a graph (React Flow)" } })
    .input(z.object({ cluster_id: clusterId.optional() }).strict().optional())
    .output(topologyView)
    .query(({ ctx, input }) => ctx.inPlatform((tx) => fabricTopology(tx, input ?? {}))),

  tenantStatus: tenantProcedure
    .meta({ permission: "read:fabric_status", openapi: { method: "GET", path: "/fabric/status", tags: ["fabric"], summary: "For an organization: the endpoints allowed to serve it, under aliases, with safe status only" } })
    .input(z.object({}).strict().optional())
    .output(tenantStatusView)
    .query(({ ctx }) => ctx.inTenant((tx) => tenantFabricStatus(tx))),

  clusters: clustersRouter,
  joinTokens: joinTokensRouter,
  joinRequests: joinRequestsRouter,
  nodes: nodesRouter,
  roles: rolesRouter,
});
