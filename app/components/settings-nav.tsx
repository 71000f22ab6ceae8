// The tabs across the Settings pages: the tenant, its members and API keys, and the person's own passkeys and sessions.
import { NavLink } from "@remix-run/react";

const TABS = [
  { to: "/settings", label: "Tenant", end: true },
  { to: "/settings/members", label: "Members" },
  { to: "/settings/api-keys", label: "API keys" },
  { to: "/settings/passkeys", label: "Passkeys" },
  { to: "/settings/sessions", label: "Sessions" },
];

export function SettingsNav() {
  return (
    <nav className="tabs" aria-label="Settings" data-testid="settings-nav">
      {TABS.map((tab) => (
        <NavLink key={tab.to} to={tab.to} end={tab.end} prefetch="intent" className="tab">
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}
