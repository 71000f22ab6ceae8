// The precedence rules of policy bindings, one at a time.
import { describe, expect, it } from "vitest";
import { decide, entryFor, type BindingInForce } from "./policy-decision.ts";

const binding = (id: string, level: "tenant" | "source", mode: BindingInForce["mode"], rules: BindingInForce["rules"]): BindingInForce => ({ id, level, mode, policyId: `p-${id}`, policyName: `policy ${id}`, rules });

describe("entryFor", () => {
  it("prefers the exact rule, then the longest prefix pattern, then *", () => {
    const rules = [
      { rule: "*", enabled: true },
      { rule: "mcp.*", enabled: true, severity: "low" as const },
      { rule: "mcp.inline_secret", enabled: false },
    ];
    expect(entryFor(rules, "mcp.inline_secret")).toEqual({ rule: "mcp.inline_secret", enabled: false });
    expect(entryFor(rules, "mcp.unpinned_package")?.rule).toBe("mcp.*");
    expect(entryFor(rules, "repo.secret")?.rule).toBe("*");
    expect(entryFor([{ rule: "mcp.*", enabled: true }], "mcpx.other")).toBeNull();
  });
});

describe("decide", () => {
  it("records a finding as given when no binding covers its rule", () => {
    expect(decide("mcp.inline_secret", "high", [binding("a", "tenant", "enforce", [{ rule: "repo.*", enabled: true }])])).toEqual({ action: "record", enforcement: "default", severity: "high", bindingIds: [] });
  });

  it("takes the strictest binding at a level and its severity override", () => {
    const d = decide("mcp.x", "medium", [binding("a", "tenant", "audit", [{ rule: "*", enabled: true, severity: "low" }]), binding("b", "tenant", "enforce", [{ rule: "mcp.*", enabled: true, severity: "critical" }])]);
    expect(d).toEqual({ action: "record", enforcement: "enforce", severity: "critical", bindingIds: ["a", "b"] });
  });

  it("lets a source binding override the tenant's for the rules it covers", () => {
    const bindings = [binding("t", "tenant", "enforce", [{ rule: "*", enabled: true }]), binding("s", "source", "disabled", [{ rule: "mcp.plain_http_remote", enabled: true }])];
    expect(decide("mcp.plain_http_remote", "high", bindings)).toMatchObject({ action: "drop", bindingIds: ["s"] });
    expect(decide("mcp.inline_secret", "high", bindings)).toMatchObject({ action: "record", enforcement: "enforce", bindingIds: ["t"] });
  });

  it("treats a disabled entry as off, and audit beats off at the same level", () => {
    expect(decide("r", "low", [binding("a", "tenant", "enforce", [{ rule: "r", enabled: false }])])).toMatchObject({ action: "drop" });
    expect(decide("r", "low", [binding("a", "tenant", "disabled", [{ rule: "r", enabled: true }]), binding("b", "tenant", "audit", [{ rule: "*", enabled: true }])])).toMatchObject({ action: "record", enforcement: "audit" });
  });
});
