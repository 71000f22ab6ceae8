// Small inline SVG icons drawn for Cairn: stroke-only, 24-unit grid, coloured by the surrounding text.
import type { ReactNode } from "react";
import type { SectionId } from "../lib/sections";

function Icon({ children, size = 18 }: { children: ReactNode; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.7}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** The product mark: four stacked stones. */
export function CairnMark({ size = 28 }: { size?: number }) {
  return (
    <svg className="cairn-mark" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <ellipse cx="16" cy="25.5" rx="11.5" ry="4.5" className="cairn-mark-stone cairn-mark-stone-1" />
      <ellipse cx="15" cy="17.8" rx="8.2" ry="3.6" className="cairn-mark-stone cairn-mark-stone-2" />
      <ellipse cx="16.6" cy="11.2" rx="5.6" ry="3" className="cairn-mark-stone cairn-mark-stone-3" />
      <ellipse cx="15.6" cy="5.6" rx="3.3" ry="2.3" className="cairn-mark-stone cairn-mark-stone-4" />
    </svg>
  );
}

const sectionIcons: Record<SectionId, ReactNode> = {
  overview: (
    <>
      <rect x="3.5" y="3.5" width="7" height="7" rx="1.5" />
      <rect x="13.5" y="3.5" width="7" height="7" rx="1.5" />
      <rect x="3.5" y="13.5" width="7" height="7" rx="1.5" />
      <rect x="13.5" y="13.5" width="7" height="7" rx="1.5" />
    </>
  ),
  sources: (
    <>
      <ellipse cx="12" cy="6" rx="7" ry="2.8" />
      <path d="M5 6v12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8V6" />
      <path d="M5 12c0 1.5 3.1 2.8 7 2.8s7-1.3 7-2.8" />
    </>
  ),
  runs: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M10.2 8.6l5 3.4-5 3.4z" />
    </>
  ),
  jobs: (
    <>
      <path d="M9.5 6.5h10M9.5 12h10M9.5 17.5h10" />
      <circle cx="5.2" cy="6.5" r="1.2" />
      <circle cx="5.2" cy="12" r="1.2" />
      <circle cx="5.2" cy="17.5" r="1.2" />
    </>
  ),
  schedules: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M12 7.5V12l3 2" />
    </>
  ),
  evidence: (
    <>
      <path d="M6.5 3.5h7.5l4.5 4.5v12.5h-12z" />
      <path d="M14 3.5V8h4.5" />
      <path d="M9.5 13h6M9.5 16.5h6" />
    </>
  ),
  findings: (
    <>
      <path d="M5.5 20.5v-16" />
      <path d="M5.5 4.5h11l-2.2 4 2.2 4h-11" />
    </>
  ),
  nodes: (
    <>
      <circle cx="6" cy="6.5" r="2.5" />
      <circle cx="18" cy="6.5" r="2.5" />
      <circle cx="12" cy="17.5" r="2.5" />
      <path d="M8.5 6.5h7M7.3 8.7l3.4 6.6M16.7 8.7l-3.4 6.6" />
    </>
  ),
  audit: (
    <>
      <path d="M12 3.2l7 2.8v5.2c0 4.3-2.9 7.9-7 9.6-4.1-1.7-7-5.3-7-9.6V6z" />
      <path d="M9 12l2.2 2.2L15.2 10" />
    </>
  ),
  settings: (
    <>
      <path d="M4 7h8.5M17.5 7H20M4 17h2.5M11.5 17H20" />
      <circle cx="15" cy="7" r="2.3" />
      <circle cx="9" cy="17" r="2.3" />
    </>
  ),
};

export function SectionIcon({ id, size }: { id: SectionId; size?: number }) {
  return <Icon size={size}>{sectionIcons[id]}</Icon>;
}

export function MenuIcon() {
  return (
    <Icon size={20}>
      <path d="M4 7h16M4 12h16M4 17h16" />
    </Icon>
  );
}

export function CloseIcon() {
  return (
    <Icon size={20}>
      <path d="M6 6l12 12M18 6L6 18" />
    </Icon>
  );
}

export function TenantIcon() {
  return (
    <Icon size={16}>
      <path d="M4 20.5V6.5l7-3v17" />
      <path d="M11 9h9v11.5" />
      <path d="M2.5 20.5h19M7 9v.01M7 12.5v.01M7 16v.01M15 13v.01M15 16.5v.01" />
    </Icon>
  );
}

export function UserIcon() {
  return (
    <Icon size={16}>
      <circle cx="12" cy="8" r="3.8" />
      <path d="M4.5 20.5c.6-3.9 3.7-6.2 7.5-6.2s6.9 2.3 7.5 6.2" />
    </Icon>
  );
}
