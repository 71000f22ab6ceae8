// "Newest" and "Next page" under a keyset-paged list: the cursor rides in the URL with the filters.
import { Link } from "@remix-run/react";
import { searchWith } from "../lib/control-plane";

export function KeysetPager({ path, filters, nextCursor, paged, testId = "next-page" }: { path: string; filters: Record<string, string>; nextCursor: string | null; paged: boolean; testId?: string }) {
  if (!nextCursor && !paged) return null;
  return (
    <footer className="audit-pager">
      {paged ? (
        <Link to={`${path}${searchWith(filters)}`} className="button button-small">
          Newest
        </Link>
      ) : (
        <span />
      )}
      {nextCursor ? (
        <Link to={`${path}${searchWith(filters, { cursor: nextCursor })}`} className="button button-small" data-testid={testId}>
          Next page
        </Link>
      ) : null}
    </footer>
  );
}
