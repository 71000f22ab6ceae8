import { describe, expect, it } from "vitest";
import { bySeverity, certificateTiming, enrollCommand, factText, healthBreakdown, missingCapability, riskHref } from "./fabric";

describe("fabric helpers", () => {
  it("sends each risky state to the page that can fix it", () => {
    expect(riskHref({ kind: "node_offline", cluster_id: "c", node_id: "n" })).toBe("/fabric/nodes/n");
    expect(riskHref({ kind: "cluster_authority", cluster_id: "c" })).toBe("/fabric/clusters/c");
    expect(riskHref({ kind: "ca_expiring", cluster_id: "c" })).toBe("/fabric/trust?cluster=c");
    expect(riskHref({ kind: "bootstrap_token_active", cluster_id: "c", token_id: "abc123" })).toBe("/fabric/join-tokens?cluster=c");
    expect(riskHref({ kind: "role_serves_every_organization", cluster_id: "c", node_id: "n" })).toBe("/fabric/roles?cluster=c");
    expect(riskHref({ kind: "revoked_node_calling", node_id: "n" })).toBe("/fabric/nodes/n");
  });

  it("orders risks critical first, keeping the order within a severity", () => {
    const risks = [
      { severity: "info" as const, id: 1 },
      { severity: "critical" as const, id: 2 },
      { severity: "warning" as const, id: 3 },
      { severity: "critical" as const, id: 4 },
    ];
    expect(bySeverity(risks).map((r) => r.id)).toEqual([2, 4, 3, 1]);
  });

  it("says when a certificate is due for rotation (its last third) or expired", () => {
    const cert = { not_before: "2026-01-01T00:00:00.000Z", not_after: "2026-01-31T00:00:00.000Z" };
    expect(certificateTiming(cert, Date.parse("2026-01-05T00:00:00Z"))).toMatchObject({ state: "valid", rotationFrom: "2026-01-21T00:00:00.000Z" });
    expect(certificateTiming(cert, Date.parse("2026-01-25T00:00:00Z")).state).toBe("rotation_due");
    expect(certificateTiming(cert, Date.parse("2026-02-01T00:00:00Z"))).toMatchObject({ state: "expired", secondsLeft: -86_400 });
  });

  it("writes the enroll command for a new token", () => {
    expect(enrollCommand("https://cairn.example", "abc123.secret", { cluster: "edge" })).toBe("cairn agent enroll --url https://cairn.example --token abc123.secret --cluster edge");
  });

  it("flags a role whose capability the node does not report", () => {
    const role = { role: "scan-worker", description: "", capability: "can_run_scan_worker", job_types: ["source.collect"] };
    expect(missingCapability(role, [])).toBe(true);
    expect(missingCapability(role, [{ name: "can_run_scan_worker", value: false }])).toBe(true);
    expect(missingCapability(role, [{ name: "can_run_scan_worker", value: true }])).toBe(false);
  });

  it("renders claimed facts as text and counts health without zeros", () => {
    expect(factText(["a", 2, true])).toBe("a, 2, true");
    expect(factText({ x: 1 })).toBe('{"x":1}');
    expect(factText(null)).toBe("—");
    expect(healthBreakdown({ healthy: 2, degraded: 0, stale: 0, offline: 1, never_seen: 0, revoked: 0 })).toEqual([
      { health: "healthy", count: 2 },
      { health: "offline", count: 1 },
    ]);
  });
});
