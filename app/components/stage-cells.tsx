// A run's four pipeline stages: small coloured cells on a run's row, and the stage panel on the run page.
import { STAGES, formatSeconds, secondsBetween, stageLabel, statusLabel, type Run, type StageCell, type StageName } from "../lib/control-plane";
import { StatusBadge, type StatusTone } from "./status-badge";
import { UtcTime } from "./utc-time";

const STAGE_TONE: Record<StageCell["status"], StatusTone> = {
  pending: "neutral",
  running: "info",
  succeeded: "ok",
  failed: "danger",
  skipped: "neutral",
  cancelled: "warn",
  timed_out: "danger",
  too_large: "danger",
};

const itemsText = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "item" : "items"}`;

/** The tooltip of a stage cell: state, items, time taken and the first error. */
export function describeStage(name: StageName, cell: StageCell): string {
  const parts = [`${stageLabel(name)}: ${statusLabel(cell.status)}`];
  if (cell.status !== "pending" && cell.status !== "skipped") parts.push(itemsText(cell.items));
  const took = secondsBetween(cell.started_at, cell.ended_at);
  if (took !== null) parts.push(formatSeconds(took));
  if (cell.errors.length) {
    const first = cell.errors[0]!;
    parts.push(`${cell.errors.length} ${cell.errors.length === 1 ? "error" : "errors"}: ${first.message}${first.where ? ` (${first.where})` : ""}`);
  }
  return parts.join(" · ");
}

/** One stage on a run's row: its colour says the state, the number is the items it handled. */
export function StageChip({ name, cell }: { name: StageName; cell: StageCell }) {
  const shown = cell.status === "pending" ? "" : cell.status === "skipped" ? "skip" : cell.items.toLocaleString("en-US");
  return (
    <span
      className={`stage-chip stage-chip-${cell.status}`}
      title={describeStage(name, cell)}
      aria-label={describeStage(name, cell)}
      data-testid={`stage-${name}`}
      data-status={cell.status}
    >
      {cell.status === "pending" ? null : <span className="stage-chip-mark" aria-hidden="true" />}
      {shown ? <span className="stage-chip-value">{shown}</span> : null}
      {cell.errors.length ? (
        <span className="stage-chip-errors" aria-hidden="true">
          !
        </span>
      ) : null}
    </span>
  );
}

export function StageCells({ stages }: { stages: Run["stages"] }) {
  return (
    <>
      {STAGES.map((name) => (
        <td key={name} className="cell-stage">
          <StageChip name={name} cell={stages[name]} />
        </td>
      ))}
    </>
  );
}

/** The run page's stage panel: each stage with its state, items, times and errors (with where they point). */
export function StagePanel({ stages }: { stages: Run["stages"] }) {
  return (
    <ol className="stage-panel" data-testid="stage-panel">
      {STAGES.map((name, i) => {
        const cell = stages[name];
        const took = secondsBetween(cell.started_at, cell.ended_at);
        return (
          <li key={name} className={`stage-card stage-card-${cell.status}`} data-testid={`stage-card-${name}`} data-status={cell.status}>
            <div className="stage-card-head">
              <span className="stage-card-step" aria-hidden="true">
                {i + 1}
              </span>
              <h3 className="stage-card-title">{stageLabel(name)}</h3>
            </div>
            <span>
              <StatusBadge tone={STAGE_TONE[cell.status]} testId={`stage-status-${name}`}>
                {statusLabel(cell.status)}
              </StatusBadge>
            </span>
            <dl className="stage-card-facts">
              <div>
                <dt>Items</dt>
                <dd data-testid={`stage-items-${name}`}>{cell.status === "pending" ? "—" : cell.items.toLocaleString("en-US")}</dd>
              </div>
              <div>
                <dt>Took</dt>
                <dd>{took !== null ? formatSeconds(took) : cell.status === "running" ? "running…" : "—"}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>
                  <UtcTime iso={cell.started_at} />
                </dd>
              </div>
              <div>
                <dt>Ended</dt>
                <dd>
                  <UtcTime iso={cell.ended_at} />
                </dd>
              </div>
            </dl>
            {cell.errors.length ? (
              <ul className="stage-errors" data-testid={`stage-errors-${name}`}>
                {cell.errors.map((e, j) => (
                  <li key={j}>
                    <span className="stage-error-message">{e.message}</span>
                    {e.where ? <code className="stage-error-where">{e.where}</code> : null}
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
