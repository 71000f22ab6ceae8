// The tabs across the fabric pages (platform owners only; organizations see one safe status page).
import { NavLink } from "@remix-run/react";

const TABS = [
  { to: "/fabric", label: "Overview", end: true },
  { to: "/fabric/clusters", label: "Clusters" },
  { to: "/fabric/nodes", label: "Nodes" },
  { to: "/fabric/join-requests", label: "Join requests" },
  { to: "/fabric/join-tokens", label: "Join tokens" },
  { to: "/fabric/roles", label: "Role assignments" },
  { to: "/fabric/trust", label: "Trust & certificates" },
  { to: "/fabric/topology", label: "Topology" },
];

export function FabricNav() {
  return (
    <nav className="tabs fabric-tabs" aria-label="Fabric" data-testid="fabric-nav">
      {TABS.map((tab) => (
        <NavLink key={tab.to} to={tab.to} end={tab.end} prefetch="intent" className="tab">
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}
