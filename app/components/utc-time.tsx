import { formatUtc } from "../lib/format";

/** A timestamp for a table cell: the date, and the UTC time under it (the same on server and browser). */
export function UtcTime({ iso, empty = "—" }: { iso: string | null; empty?: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  const [date, time] = formatUtc(iso).split(" ");
  return (
    <time dateTime={iso} className="cell-stack nowrap" title={formatUtc(iso)}>
      <span>{date}</span>
      <span className="cell-note">{time ? `${time.slice(0, 5)} UTC` : ""}</span>
    </time>
  );
}
