import type { ReactNode } from "react";

export type StatusTone = "ok" | "warn" | "danger" | "neutral" | "info";

/** A short status word with a coloured dot; the word carries the meaning, the colour only repeats it. */
export function StatusBadge({ tone, children, title, testId }: { tone: StatusTone; children: ReactNode; title?: string; testId?: string }) {
  return (
    <span className={`status-badge status-badge-${tone}`} title={title} data-testid={testId} data-tone={tone}>
      <span className="status-badge-dot" aria-hidden="true" />
      {children}
    </span>
  );
}
