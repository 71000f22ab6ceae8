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
  credentials: (
    <>
      <rect x="3.5" y="5" width="17" height="14" rx="2" />
      <circle cx="11" cy="12" r="3" />
      <path d="M11 10.2v1.8M17 10v4" />
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
  policies: (
    <>
      <rect x="5" y="3.5" width="14" height="17" rx="2" />
      <path d="M8.5 9l1.5 1.5 2.5-2.5M14.5 9.5h1.5M8.5 15l1.5 1.5 2.5-2.5M14.5 15.5h1.5" />
    </>
  ),
  receipts: (
    <>
      <path d="M6 3.5h12v17l-2-1.4-2 1.4-2-1.4-2 1.4-2-1.4-2 1.4z" />
      <path d="M9 8h6M9 11.5h6M9 15h3.5" />
    </>
  ),
  fleet: (
    <>
      <rect x="3" y="4.5" width="11" height="8" rx="1.2" />
      <path d="M6.5 16h4M8.5 12.5V16" />
      <rect x="15.5" y="8.5" width="5.5" height="11" rx="1.2" />
      <path d="M18.2 17v.01" />
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
  fabric: (
    <>
      <path d="M12 3.5l7.5 4.2v8.6L12 20.5l-7.5-4.2V7.7z" />
      <circle cx="12" cy="12" r="2.2" />
      <path d="M12 3.5v6.3M12 14.2v6.3M4.5 7.7l5.6 3.2M13.9 13.1l5.6 3.2" />
    </>
  ),
  connectors: (
    <>
      <path d="M9 3.5v4M15 3.5v4" />
      <path d="M6.5 7.5h11v3.5a5.5 5.5 0 0 1-11 0z" />
      <path d="M12 16.5v4" />
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

export function ChevronDownIcon() {
  return (
    <Icon size={14}>
      <path d="M6.5 9.5l5.5 5.5 5.5-5.5" />
    </Icon>
  );
}

export function CheckIcon({ size = 16 }: { size?: number }) {
  return (
    <Icon size={size}>
      <path d="M5 12.5l4.5 4.5L19 7.5" />
    </Icon>
  );
}

export function CopyIcon() {
  return (
    <Icon size={15}>
      <rect x="8.5" y="8.5" width="11" height="11" rx="2" />
      <path d="M15.5 8.5V6a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 6v8A1.5 1.5 0 0 0 6 15.5h2.5" />
    </Icon>
  );
}

export function KeyIcon({ size = 18 }: { size?: number }) {
  return (
    <Icon size={size}>
      <circle cx="8" cy="15.5" r="4" />
      <path d="M10.8 12.7L19.5 4M16 7.5l2.5 2.5M13.5 10l2 2" />
    </Icon>
  );
}

export function PeopleIcon({ size = 18 }: { size?: number }) {
  return (
    <Icon size={size}>
      <circle cx="9" cy="8.5" r="3.3" />
      <path d="M3 19.5c.5-3.3 2.9-5.3 6-5.3s5.5 2 6 5.3" />
      <path d="M15.5 5.6a3.2 3.2 0 0 1 0 6M17.5 14.6c1.9.7 3.2 2.4 3.5 4.9" />
    </Icon>
  );
}

export function FingerprintIcon({ size = 18 }: { size?: number }) {
  return (
    <Icon size={size}>
      <path d="M6.2 17.5A9.6 9.6 0 0 1 5 12.8a7 7 0 0 1 12.6-4.2" />
      <path d="M19 11.5c.1.5.1 1 .1 1.6 0 2.2-.4 4.3-1.2 6.2" />
      <path d="M8.7 19.8a12 12 0 0 0 .8-4.4v-2.6a2.5 2.5 0 0 1 5 0v2.3c0 1.8-.3 3.5-.9 5.1" />
      <path d="M12 12.8v2.6c0 2-.5 3.9-1.4 5.6" />
    </Icon>
  );
}

export function DevicesIcon({ size = 18 }: { size?: number }) {
  return (
    <Icon size={size}>
      <rect x="3.5" y="5" width="13" height="9.5" rx="1.5" />
      <path d="M7 18.5h6M10 14.5v4" />
      <rect x="16.5" y="9.5" width="4.5" height="9" rx="1" />
    </Icon>
  );
}

export function LockIcon({ size = 18 }: { size?: number }) {
  return (
    <Icon size={size}>
      <rect x="5" y="10.5" width="14" height="10" rx="2" />
      <path d="M8.5 10.5V7.5a3.5 3.5 0 0 1 7 0v3" />
    </Icon>
  );
}

export function SignOutIcon() {
  return (
    <Icon size={16}>
      <path d="M14 4.5H6.5a1.5 1.5 0 0 0-1.5 1.5v12a1.5 1.5 0 0 0 1.5 1.5H14" />
      <path d="M10.5 12h10M17 8.5l3.5 3.5-3.5 3.5" />
    </Icon>
  );
}
