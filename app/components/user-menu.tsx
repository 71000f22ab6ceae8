// The signed-in person in the top bar: who they are, links to their own account pages, and sign out.
import { Form, Link } from "@remix-run/react";
import type { Me } from "../lib/identity";
import { Dropdown } from "./dropdown";
import { ChevronDownIcon, DevicesIcon, FingerprintIcon, LockIcon, SignOutIcon, UserIcon } from "./icons";

export function UserMenu({ me }: { me: Me }) {
  return (
    <Dropdown
      testId="user-menu"
      summaryClassName="user-chip user-chip-button"
      summaryLabel={`Account menu for ${me.email}`}
      summary={
        <>
          <span className="user-chip-avatar" aria-hidden="true">
            <UserIcon />
          </span>
          <span className="user-chip-email">{me.email}</span>
          <ChevronDownIcon />
        </>
      }
    >
      <div className="dropdown-identity">
        {me.name ? <p className="dropdown-item-title">{me.name}</p> : null}
        <p className="dropdown-identity-email">{me.email}</p>
        {me.is_platform_owner ? (
          <p>
            <span className="badge badge-accent" data-testid="platform-owner-badge" title="Manages the installation: clusters, nodes and tenants">
              Platform owner
            </span>
          </p>
        ) : null}
      </div>
      <ul className="dropdown-list">
        <li>
          <Link to="/account/password" className="dropdown-item">
            <span className="dropdown-item-check" aria-hidden="true">
              <LockIcon size={16} />
            </span>
            Account
          </Link>
        </li>
        <li>
          <Link to="/settings/passkeys" className="dropdown-item">
            <span className="dropdown-item-check" aria-hidden="true">
              <FingerprintIcon size={16} />
            </span>
            Passkeys
          </Link>
        </li>
        <li>
          <Link to="/settings/sessions" className="dropdown-item">
            <span className="dropdown-item-check" aria-hidden="true">
              <DevicesIcon size={16} />
            </span>
            Sessions
          </Link>
        </li>
      </ul>
      <Form method="post" action="/logout" className="dropdown-footer">
        <button type="submit" className="dropdown-item" data-testid="sign-out">
          <span className="dropdown-item-check" aria-hidden="true">
            <SignOutIcon />
          </span>
          Sign out
        </button>
      </Form>
    </Dropdown>
  );
}
