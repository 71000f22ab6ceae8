// The current tenant, always in view; with more than one membership it opens a list that switches the session's tenant.
import { Form, useLocation } from "@remix-run/react";
import { currentMembership, roleLabel, type Me } from "../lib/identity";
import { Dropdown } from "./dropdown";
import { CheckIcon, ChevronDownIcon, TenantIcon } from "./icons";

export function TenantSwitcher({ me }: { me: Me }) {
  const location = useLocation();
  const current = currentMembership(me);

  if (!current) {
    return (
      <span className="tenant-chip tenant-chip-static" data-testid="tenant-switcher" title="You are not a member of any tenant yet">
        <TenantIcon />
        <span className="tenant-chip-label">Tenant</span>
        <span className="tenant-chip-value muted">None yet</span>
      </span>
    );
  }

  const value = (
    <>
      <TenantIcon />
      <span className="tenant-chip-label">Tenant</span>
      <span className="tenant-chip-value" data-testid="current-tenant">
        {current.slug}
      </span>
      <span className="tenant-chip-role">{roleLabel(current.role)}</span>
    </>
  );

  if (me.memberships.length < 2) {
    return (
      <span className="tenant-chip tenant-chip-static" data-testid="tenant-switcher" title={`${current.name} · your only tenant`}>
        {value}
      </span>
    );
  }

  return (
    <Dropdown
      testId="tenant-switcher"
      align="start"
      summaryClassName="tenant-chip tenant-chip-button"
      summaryLabel={`Tenant ${current.slug}: switch tenant`}
      summary={
        <>
          {value}
          <ChevronDownIcon />
        </>
      }
    >
      <p className="dropdown-heading">Switch tenant</p>
      <ul className="dropdown-list" aria-label="Your tenants">
        {me.memberships.map((m) => (
          <li key={m.tenant_id}>
            <Form method="post" action="/tenant/switch">
              <input type="hidden" name="tenant_id" value={m.tenant_id} />
              <input type="hidden" name="redirect_to" value={location.pathname + location.search} />
              <button type="submit" className="dropdown-item" aria-current={m.tenant_id === current.tenant_id ? "true" : undefined} data-testid={`switch-tenant-${m.slug}`}>
                <span className="dropdown-item-check" aria-hidden="true">
                  {m.tenant_id === current.tenant_id ? <CheckIcon /> : null}
                </span>
                <span className="dropdown-item-text">
                  <span className="dropdown-item-title">{m.slug}</span>
                  <span className="dropdown-item-note">
                    {m.name} · {roleLabel(m.role)}
                  </span>
                </span>
              </button>
            </Form>
          </li>
        ))}
      </ul>
    </Dropdown>
  );
}
