import type { ReactNode } from "react";

export type NoticeTone = "error" | "success" | "info" | "warn";

/** A message above or inside a form. Errors are announced to screen readers as they appear. */
export function Notice({ tone, title, children, testId }: { tone: NoticeTone; title?: string; children: ReactNode; testId?: string }) {
  return (
    <div className={`notice notice-${tone}`} role={tone === "error" ? "alert" : "status"} data-testid={testId}>
      {title ? <p className="notice-title">{title}</p> : null}
      <div className="notice-body">{children}</div>
    </div>
  );
}
