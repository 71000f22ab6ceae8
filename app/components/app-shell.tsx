// The frame around every page: sidebar navigation (a menu under ~800px), and a top bar for tenant and user.
import { useEffect, useState, type ReactNode } from "react";
import { Link, NavLink, useLocation } from "@remix-run/react";
import { sections } from "../lib/sections";
import { CairnMark, CloseIcon, MenuIcon, SectionIcon, TenantIcon, UserIcon } from "./icons";

const IDENTITY_PENDING = "Tenants and sign-in arrive with identity & access";

export function AppShell({ children }: { children: ReactNode }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();

  // A navigation closes the small-screen menu.
  useEffect(() => setMenuOpen(false), [location.pathname]);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setMenuOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className={menuOpen ? "sidebar is-open" : "sidebar"}>
        <div className="sidebar-inner">
          <div className="sidebar-header">
            <Link to="/" className="brand" data-testid="brand" aria-label="Cairn, overview">
              <CairnMark />
              <span className="brand-name">Cairn</span>
            </Link>
            <button
              type="button"
              className="menu-toggle"
              aria-expanded={menuOpen}
              aria-controls="primary-nav"
              aria-label={menuOpen ? "Close navigation" : "Open navigation"}
              data-testid="menu-toggle"
              onClick={() => setMenuOpen((open) => !open)}
            >
              {menuOpen ? <CloseIcon /> : <MenuIcon />}
            </button>
          </div>
          <nav id="primary-nav" className="nav" aria-label="Primary" data-testid="nav">
            <ul className="nav-list">
              {sections.map((section) => (
                <li key={section.id}>
                  <NavLink to={section.path} end={section.path === "/"} prefetch="intent" className="nav-link" data-testid={`nav-${section.id}`}>
                    <SectionIcon id={section.id} />
                    <span>{section.label}</span>
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="sidebar-footer">
            <a href="/v1/openapi.json" className="sidebar-footer-link">
              REST API · OpenAPI
            </a>
          </div>
        </div>
      </aside>
      <div className="main-column">
        <header className="topbar">
          <div className="topbar-start">
            <span className="tenant-chip" data-testid="tenant-switcher" title={IDENTITY_PENDING}>
              <TenantIcon />
              <span className="tenant-chip-label">Tenant</span>
              <span className="tenant-chip-value">No tenant yet</span>
            </span>
          </div>
          <div className="topbar-end">
            <span className="user-chip" data-testid="user-menu" title={IDENTITY_PENDING}>
              <span className="user-chip-avatar" aria-hidden="true">
                <UserIcon />
              </span>
              <span>Not signed in</span>
            </span>
          </div>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
