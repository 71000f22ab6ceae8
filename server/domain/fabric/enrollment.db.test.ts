// Join tokens and the join flow through the real signed agent endpoints: every refusal a token can earn, proof of
// possession, verified vs claimed facts, step-up on every trust decision, batch approval, bootstrap tokens, and the
// certificate each cluster's own CA issues.
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/test-db.ts";
import { errorCode } from "../../../test/runtime.ts";
import { claims, createCluster, enroll, fabricFixture, redeem, refusal, type FabricFixture } from "../../../test/fabric.ts";
import { EnrollmentApi, generateNodeKey } from "../../agent/agent-api.ts";
import { JOIN_TOKEN_PATTERN, keyFingerprint, certificateFingerprint } from "./agent-protocol.ts";

let t: TestDatabase;
let f: FabricFixture;
let cluster: { cluster_id: string; slug: string };
let other: { cluster_id: string; slug: string };

beforeAll(async () => {
  t = await createTestDatabase();
  f = await fabricFixture(t);
  cluster = await createCluster(f, "edge");
  other = await createCluster(f, "other");
});
afterAll(async () => {
  await f?.close();
  await t?.drop();
});

const deniedReasons = async () => (await t.owner.sql<{ reason: string }[]>`select details->>'reason' as reason from audit_events where action = 'join_request.create' and outcome = 'denied'`).map((r) => r.reason);
const usedCount = async (tokenId: string) => (await t.owner.sql<{ n: number }[]>`select used_count as n from node_join_tokens where id = ${tokenId}`)[0]!.n;

describe("join tokens", () => {
  it("are id.secret with a secret of more than 128 bits, shown once and stored only as a hash; create, list and revoke need step-up", async () => {
    expect(await errorCode(f.ownerWithoutStepUp.fabric.joinTokens.create({ id: cluster.cluster_id }))).toBe("STEP_UP_REQUIRED");
    const created = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, ttl_seconds: 900, max_uses: 2, description: "rack 4" });
    expect(created.token).toMatch(JOIN_TOKEN_PATTERN);
    const [id, secret] = created.token.split(".") as [string, string];
    expect(secret.length * Math.log2(36)).toBeGreaterThan(128);
    expect(created).toMatchObject({ token_id: id, state: "active", max_uses: 2, remaining_uses: 2, scope: "join" });
    const stored = await t.owner.sql<{ row: string }[]>`select row_to_json(n)::text as row from node_join_tokens n where id = ${id}`;
    expect(stored[0]!.row).not.toContain(secret);
    expect(await errorCode(f.ownerWithoutStepUp.fabric.joinTokens.list({ id: cluster.cluster_id }))).toBe("STEP_UP_REQUIRED");
    const listed = await f.owner.fabric.joinTokens.list({ id: cluster.cluster_id });
    expect(listed.items.find((x) => x.token_id === id)).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(await errorCode(f.ownerWithoutStepUp.fabric.joinTokens.revoke({ id }))).toBe("STEP_UP_REQUIRED");
    expect((await f.owner.fabric.joinTokens.revoke({ id })).state).toBe("revoked");
    const actions = (await t.owner.sql<{ action: string }[]>`select action from audit_events where target_type in ('join_token','cluster') and tenant_id is null`).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["join_token.create", "join_token.list", "join_token.revoke"]));
  });

  it("refuses expired, revoked, exhausted and wrong-cluster tokens, a second redemption of a one-use token, a binding mismatch and a missing proof of possession — and audits each", async () => {
    const once = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 1 });
    const first = await redeem(f, once.token);
    expect(first.answer.status).toBe("pending");
    const second = await refusal(redeem(f, once.token));
    expect(second).toMatchObject({ status: 401, reason: "token_exhausted" });
    expect(second.message).toMatch(/used up/);

    const expired = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 5 });
    await t.owner.sql`update node_join_tokens set expires_at = now() - interval '1 second' where id = ${expired.token_id}`;
    expect(await refusal(redeem(f, expired.token))).toMatchObject({ status: 401, reason: "token_expired" });

    const revoked = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 5 });
    await f.owner.fabric.joinTokens.revoke({ id: revoked.token_id });
    expect(await refusal(redeem(f, revoked.token))).toMatchObject({ status: 401, reason: "token_revoked" });

    const foreign = await f.owner.fabric.joinTokens.create({ id: other.cluster_id, max_uses: 5 });
    expect(await refusal(redeem(f, foreign.token, { cluster: cluster.slug }))).toMatchObject({ status: 403, reason: "wrong_cluster" });
    expect(await usedCount(foreign.token_id)).toBe(0);

    const wrongSecret = `${foreign.token_id}.${"a".repeat(32)}`;
    // A wrong secret and an unknown id read alike.
    expect(await refusal(redeem(f, wrongSecret))).toMatchObject({ status: 401, reason: "token_unknown", message: "Join token not recognised" });
    expect(await refusal(redeem(f, `zzzzzz.${"b".repeat(32)}`))).toMatchObject({ status: 401, reason: "token_unknown", message: "Join token not recognised" });
    expect(await refusal(redeem(f, "not-a-token"))).toMatchObject({ status: 400 });

    const bound = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 5, bind_hostname: "db-7.example.internal" });
    const mismatch = await refusal(redeem(f, bound.token, { hostname: "laptop.example.internal" }));
    expect(mismatch).toMatchObject({ status: 403, reason: "binding_mismatch" });
    expect(mismatch.message).toMatch(/hostname/);
    expect(await usedCount(bound.token_id)).toBe(0);
    const matched = await redeem(f, bound.token, { hostname: "DB-7.example.internal" });
    expect((await f.owner.fabric.joinRequests.get({ id: matched.answer.request_id })).verified.binding.hostname).toBe("matched");

    const keyBound = generateNodeKey();
    const byKey = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 5, bind_key_fingerprint: keyFingerprint(keyBound.publicKeyRaw) });
    expect(await refusal(redeem(f, byKey.token))).toMatchObject({ status: 403, reason: "binding_mismatch" });
    expect((await redeem(f, byKey.token, {}, keyBound)).answer.status).toBe("pending");

    // Proof of possession: a body naming one key, signed by another.
    const holder = generateNodeKey();
    const impostor = new EnrollmentApi(f.client, { privateKey: generateNodeKey().privateKey, publicKeyRaw: holder.publicKeyRaw });
    const pop = await refusal(impostor.join(bound.token, claims({ hostname: "db-7.example.internal" })));
    expect(pop).toMatchObject({ status: 401, reason: "proof_of_possession_failed" });

    expect(await deniedReasons()).toEqual(expect.arrayContaining(["token_exhausted", "token_expired", "token_revoked", "wrong_cluster", "binding_mismatch", "token_unknown"]));
  });

  it("a retried redemption with the same key returns the same pending request without spending another use", async () => {
    const token = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 1 });
    const key = generateNodeKey();
    const a = await redeem(f, token.token, {}, key);
    const b = await redeem(f, token.token, {}, key);
    expect(b.answer).toMatchObject({ request_id: a.answer.request_id, duplicate: true });
    expect(await usedCount(token.token_id)).toBe(1);
  });
});

describe("join requests", () => {
  it("separate what was verified from what the node claims, and approval (step-up) issues a certificate from the cluster's own CA", async () => {
    const token = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 1, bind_machine_id: "m-42" });
    const { key, enrollment, answer } = await redeem(f, token.token, { machine_id: "m-42", node_name: "scanner-a", requested_roles: ["scan-worker"], capabilities: { can_run_scan_worker: true } });
    expect(answer).toMatchObject({ status: "pending", cluster: { id: cluster.cluster_id, slug: "edge" } });
    const pending = await f.owner.fabric.joinRequests.list({ status: "pending", cluster_id: cluster.cluster_id });
    const request = pending.items.find((r) => r.request_id === answer.request_id)!;
    expect(request.verified).toMatchObject({
      token_matched: true,
      token_id: token.token_id,
      proof_of_possession: true,
      key_fingerprint: keyFingerprint(key.publicKeyRaw),
      binding: { machine_id: "matched", hostname: "not_bound", key_fingerprint: "not_bound" },
      source_address: expect.stringContaining("127.0.0.1"),
    });
    expect(request.claimed).toMatchObject({ node_name: "scanner-a", machine_id: "m-42", requested_roles: ["scan-worker"], capabilities: { can_run_scan_worker: true } });

    expect((await enrollment.status(answer.request_id)).status).toBe("pending");
    expect(await errorCode(f.ownerWithoutStepUp.fabric.joinRequests.approve({ id: answer.request_id }))).toBe("STEP_UP_REQUIRED");
    const { approved } = await f.owner.fabric.joinRequests.approve({ id: answer.request_id });
    expect(approved[0]).toMatchObject({ request_id: answer.request_id, node_name: "scanner-a" });
    // Approval grants no role, whatever the node asked for.
    const node = await f.owner.fabric.nodes.get({ id: approved[0]!.node_id });
    expect(node.roles).toEqual([]);
    expect(node.health).toBe("never_seen");

    const status = await enrollment.status(answer.request_id);
    expect(status.status).toBe("approved");
    const cert = new X509Certificate(status.certificate_pem!);
    const ca = new X509Certificate(status.ca_certificate_pem!);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.publicKey.export({ type: "spki", format: "der" }).subarray(-32).toString("base64")).toBe(key.publicKeyRaw);
    expect(cert.subject).toContain(approved[0]!.node_id);
    expect(certificateFingerprint(status.ca_certificate_pem!)).toBe(status.ca_fingerprint);
    // Another cluster's CA did not issue it.
    const trust = await f.owner.fabric.clusters.trust({ id: other.cluster_id });
    expect(cert.verify(new X509Certificate(trust.cas[0]!.certificate_pem).publicKey)).toBe(false);
    // The CA's private key is stored encrypted, never in the clear.
    const caRow = await t.owner.sql<{ enc: string }[]>`select private_key_enc as enc from cluster_cas where cluster_id = ${cluster.cluster_id}`;
    expect(caRow[0]!.enc).toMatch(/^v1\./);
    expect(caRow[0]!.enc).not.toContain("PRIVATE KEY");

    // Polling someone else's request reads as missing.
    expect(await refusal(new EnrollmentApi(f.client, generateNodeKey()).status(answer.request_id))).toMatchObject({ status: 404 });
    const audit = (await t.owner.sql<{ action: string }[]>`select action from audit_events where tenant_id is null and (target_id = ${answer.request_id} or details->>'node_id' = ${approved[0]!.node_id})`).map((r) => r.action);
    expect(audit).toEqual(expect.arrayContaining(["join_request.create", "join_request.approve", "node_identity.issue"]));
  });

  it("one step-up approves a selected batch, all or nothing", async () => {
    const token = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 4 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await redeem(f, token.token)).answer.request_id);
    const { approved } = await f.owner.fabric.joinRequests.approveBatch({ ids });
    expect(approved.map((a) => a.request_id).sort()).toEqual([...ids].sort());
    // A batch naming an already decided request changes nothing.
    const fresh = (await redeem(f, token.token)).answer.request_id;
    expect(await errorCode(f.owner.fabric.joinRequests.approveBatch({ ids: [fresh, ids[0]!] }))).toBe("CONFLICT");
    expect((await f.owner.fabric.joinRequests.get({ id: fresh })).status).toBe("pending");
    const { rejected } = await f.owner.fabric.joinRequests.rejectBatch({ ids: [fresh], reason: "unknown machine" });
    expect(rejected).toEqual([{ request_id: fresh, status: "rejected" }]);
    expect((await f.owner.fabric.joinRequests.get({ id: fresh })).rejection_reason).toBe("unknown machine");
  });

  it("a rejected enrollment learns why", async () => {
    const token = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, max_uses: 1 });
    const { enrollment, answer } = await redeem(f, token.token);
    expect(await errorCode(f.ownerWithoutStepUp.fabric.joinRequests.reject({ id: answer.request_id, reason: "no" }))).toBe("STEP_UP_REQUIRED");
    await f.owner.fabric.joinRequests.reject({ id: answer.request_id, reason: "not one of ours" });
    expect(await enrollment.status(answer.request_id)).toMatchObject({ status: "rejected", rejection_reason: "not one of ours" });
  });

  it("only explicitly scoped bootstrap tokens approve on redemption, within tight limits", async () => {
    expect(await errorCode(f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, scope: "bootstrap", max_uses: 50 }))).toBe("INVALID_INPUT");
    const boot = await f.owner.fabric.joinTokens.create({ id: cluster.cluster_id, scope: "bootstrap", max_uses: 2, ttl_seconds: 600 });
    const { enrollment, answer } = await redeem(f, boot.token);
    expect(answer.status).toBe("approved");
    const status = await enrollment.status(answer.request_id);
    expect(status.certificate_pem).toContain("BEGIN CERTIFICATE");
    expect((await f.owner.fabric.joinRequests.get({ id: answer.request_id })).auto_approved).toBe(true);
    expect((await f.owner.fabric.overview()).risky_states.some((r) => r.kind === "bootstrap_token_active" && r.token_id === boot.token_id)).toBe(true);
  });
});

describe("cluster authority", () => {
  it("a partitioned cluster refuses approvals, certificate issuance, role and policy changes until a platform owner recovers it (step-up)", async () => {
    const c = await createCluster(f, "split");
    const node = await enroll(f, c.cluster_id);
    const token = await f.owner.fabric.joinTokens.create({ id: c.cluster_id, max_uses: 1 });
    const { answer } = await redeem(f, token.token);
    expect(await errorCode(f.ownerWithoutStepUp.fabric.clusters.setAuthority({ id: c.cluster_id, state: "partitioned", reason: "link to site B lost" }))).toBe("STEP_UP_REQUIRED");
    const marked = await f.owner.fabric.clusters.setAuthority({ id: c.cluster_id, state: "partitioned", reason: "link to site B lost" });
    expect(marked.authority_state).toBe("partitioned");

    let message = "";
    try {
      await f.owner.fabric.joinRequests.approve({ id: answer.request_id });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe("Cluster split is partitioned (link to site B lost): it refuses to approve join requests until a platform owner recovers it");
    expect(await errorCode(f.owner.fabric.nodes.assignRole({ id: node.nodeId, role: "scan-worker" }))).toBe("CONFLICT");
    expect(await errorCode(f.owner.fabric.clusters.update({ id: c.cluster_id, cert_ttl_hours: 24 }))).toBe("CONFLICT");
    // Labels are not policy.
    expect((await f.owner.fabric.clusters.update({ id: c.cluster_id, description: "two sites" })).description).toBe("two sites");
    expect((await refusal(node.api.rotate(generateNodeKey()))).status).toBe(409);
    expect((await f.owner.fabric.joinRequests.get({ id: answer.request_id })).status).toBe("pending");
    // A bootstrap redemption waits too.
    const boot = await f.owner.fabric.joinTokens.create({ id: c.cluster_id, scope: "bootstrap", max_uses: 1 });
    expect((await redeem(f, boot.token)).answer.status).toBe("pending");

    expect(await errorCode(f.ownerWithoutStepUp.fabric.clusters.recover({ id: c.cluster_id, reason: "link restored" }))).toBe("STEP_UP_REQUIRED");
    expect((await f.owner.fabric.clusters.recover({ id: c.cluster_id, reason: "link restored" })).authority_state).toBe("healthy");
    expect((await f.owner.fabric.joinRequests.approve({ id: answer.request_id })).approved).toHaveLength(1);
    // Certificate lifetime is trust policy: step-up; labels are not.
    expect(await errorCode(f.ownerWithoutStepUp.fabric.clusters.update({ id: c.cluster_id, cert_ttl_hours: 48 }))).toBe("STEP_UP_REQUIRED");
    expect((await f.ownerWithoutStepUp.fabric.clusters.update({ id: c.cluster_id, region: "eu-west" })).region).toBe("eu-west");
    expect((await f.owner.fabric.clusters.update({ id: c.cluster_id, cert_ttl_hours: 48 })).cert_ttl_hours).toBe(48);
    const actions = (await t.owner.sql<{ action: string }[]>`select action from audit_events where target_id = ${c.cluster_id} order by id`).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["cluster.create", "cluster.authority_change", "cluster.recover"]));
  });
});
