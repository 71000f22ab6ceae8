// The findings table of the Findings page: title, rule and where; severity; status (and whether it is enforced);
// source; last seen.
import { Link } from "@remix-run/react";
import { FINDING_STATUS, SEVERITY, type Finding } from "../lib/findings";
import { StatusBadge } from "./status-badge";
import { UtcTime } from "./utc-time";

export function FindingsTable({ findings, showSource = true, testId = "findings-table" }: { findings: Finding[]; showSource?: boolean; testId?: string }) {
  return (
    <div className="table-wrap">
      <table className="table table-dense" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            {showSource ? <th scope="col">Source</th> : null}
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {findings.map((f) => (
            <tr key={f.finding_id} data-testid="finding-row" data-finding-id={f.finding_id} data-rule={f.rule}>
              <td className="cell-name">
                <span className="cell-stack">
                  <Link to={`/findings/${f.finding_id}`} className="cell-title" data-testid="finding-link">
                    {f.title}
                  </Link>
                  <span className="cell-note">
                    <code>{f.rule}</code>
                    {f.where ? (
                      <>
                        {" "}
                        · <span className="mono cell-ellipsis" title={f.where}>{f.where}</span>
                      </>
                    ) : null}
                  </span>
                </span>
              </td>
              <td>
                <StatusBadge tone={SEVERITY[f.severity].tone} testId="finding-severity">
                  {SEVERITY[f.severity].label}
                </StatusBadge>
              </td>
              <td>
                <span className="cell-stack">
                  <StatusBadge tone={FINDING_STATUS[f.status].tone} title={FINDING_STATUS[f.status].title} testId="finding-status">
                    {FINDING_STATUS[f.status].label}
                  </StatusBadge>
                  {f.enforcement === "enforce" && f.status === "open" ? <span className="cell-note error-text">Enforced</span> : null}
                </span>
              </td>
              {showSource ? (
                <td>
                  <Link to={`/sources/${f.source_id}`}>{f.source_name ?? f.source_id.slice(0, 8)}</Link>
                </td>
              ) : null}
              <td>
                <UtcTime iso={f.last_seen_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
