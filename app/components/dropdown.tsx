// A menu that opens from a button in the top bar. Built on <details>, so it opens before the page has hydrated;
// once it has, a click elsewhere, Escape or a navigation closes it.
import { useEffect, useRef, type ReactNode } from "react";
import { useLocation } from "@remix-run/react";

export function Dropdown({
  summary,
  summaryClassName,
  summaryLabel,
  align = "end",
  testId,
  children,
}: {
  summary: ReactNode;
  summaryClassName: string;
  /** Accessible name of the button when its visible text is not enough. */
  summaryLabel?: string;
  align?: "start" | "end";
  testId?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDetailsElement>(null);
  const location = useLocation();

  // Every navigation closes it, including one back to the same address (a tenant switch returns to the page it left).
  useEffect(() => {
    if (ref.current) ref.current.open = false;
  }, [location.key]);

  useEffect(() => {
    const onPointer = (e: MouseEvent) => {
      const el = ref.current;
      if (el?.open && !el.contains(e.target as Node)) el.open = false;
    };
    const onKey = (e: KeyboardEvent) => {
      const el = ref.current;
      if (e.key === "Escape" && el?.open) {
        el.open = false;
        el.querySelector("summary")?.focus();
      }
    };
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, []);

  return (
    <details ref={ref} className="dropdown" data-testid={testId}>
      <summary className={summaryClassName} aria-label={summaryLabel}>
        {summary}
      </summary>
      <div className={`dropdown-menu dropdown-menu-${align}`}>{children}</div>
    </details>
  );
}
