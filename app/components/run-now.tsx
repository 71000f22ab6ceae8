// "Run now" for one source, posting to the Sources page's action; once queued, a link to the new run.
import { Link, useFetcher } from "@remix-run/react";
import { pushOnlyReason, shortId, type Source } from "../lib/control-plane";

type RunNowResult = { ok: true; run_id: string; duplicate: boolean } | { ok: false; error: string };

export function RunNow({ source, compact = true }: { source: Source; compact?: boolean }) {
  const fetcher = useFetcher<RunNowResult>();
  const result = fetcher.state === "idle" ? fetcher.data : undefined;
  const blocked = pushOnlyReason(source) ?? (source.status === "unsupported" ? "No connector for this kind in this build" : source.status === "disabled" ? "Enable the source to run it" : null);
  return (
    <span className="run-now" data-testid="run-now-group">
      <fetcher.Form method="post" action="/sources?index">
        <input type="hidden" name="intent" value="run" />
        <input type="hidden" name="source_id" value={source.source_id} />
        <button
          type="submit"
          className={compact ? "button button-small" : "button button-primary"}
          disabled={fetcher.state !== "idle" || blocked !== null}
          title={blocked ?? "Queue a run of this source now"}
          data-testid="run-now"
          data-blocked={blocked ? "true" : undefined}
        >
          {fetcher.state !== "idle" ? "Starting…" : "Run now"}
        </button>
      </fetcher.Form>
      {result?.ok ? (
        <Link to={`/runs/${result.run_id}`} className="run-now-result" data-testid="run-now-link">
          {result.duplicate ? "Already queued" : "Queued"}: view run {shortId(result.run_id)} →
        </Link>
      ) : result && !result.ok ? (
        <span className="run-now-result error-text" role="alert" data-testid="run-now-error">
          {result.error}
        </span>
      ) : null}
    </span>
  );
}
