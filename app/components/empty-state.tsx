import type { ReactNode } from "react";
import { Link } from "@remix-run/react";
import type { SectionId } from "../lib/sections";
import { SectionIcon } from "./icons";

/** What a page shows when it has nothing to list, saying plainly what will fill it. */
export function EmptyState({
  icon,
  title,
  children,
  arrivesWith,
}: {
  icon: SectionId;
  title: string;
  children: ReactNode;
  /** Name of the capability that will fill this page, when it is not built yet. */
  arrivesWith?: string;
}) {
  return (
    <section className="empty-state" data-testid="empty-state" aria-labelledby="empty-state-title">
      <div className="empty-state-icon">
        <SectionIcon id={icon} size={26} />
      </div>
      <h2 className="empty-state-title" id="empty-state-title">
        {title}
      </h2>
      <p className="empty-state-body">{children}</p>
      {arrivesWith ? (
        <p className="empty-state-footer">
          <span className="tag">Not built yet</span>
          <span>
            Arrives with <strong>{arrivesWith}</strong> · <Link to="/#whats-next">see what&rsquo;s next</Link>
          </span>
        </p>
      ) : null}
    </section>
  );
}
