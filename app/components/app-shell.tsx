// The frame around every page: sidebar navigation (a menu under ~800px), and a top bar for tenant and user.
// Pages that stand alone (sign-in, a forced password change) get a plain centred layout instead.
import { useEffect, useState, type ReactNode } from "react";
import { Link, NavLink, useLocation, useMatches } from "@remix-run/react";
import { sections } from "../lib/sections";
import type { Me } from "../lib/identity";
import { CairnMark, CloseIcon, MenuIcon, SectionIcon } from "./icons";
import { TenantSwitcher } from "./tenant-switcher";
import { UserMenu } from "./user-menu";

/** A route's `handle`: `standalone` pages render without navigation and top bar. */
export interface ShellHandle {
  standalone?: boolean;
}

export function AppShell({ me = null, children }: { me?: Me | null; children: ReactNode }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const matches = useMatches();
  const standalone = !me || me.must_change_password || matches.some((m) => (m.handle as ShellHandle | undefined)?.standalone);

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

  if (standalone || !me) {
    return (
      <div className="standalone-layout">
        <main id="main" className="standalone-main" tabIndex={-1}>
          {children}
        </main>
      </div>
    );
  }

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
            <TenantSwitcher me={me} />
          </div>
          <div className="topbar-end">
            <UserMenu me={me} />
          </div>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
