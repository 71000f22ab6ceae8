// A job's log as it is written. The page renders the stored lines; in the browser an EventSource on
// /v1/jobs/{id}/stream adds new lines and status changes (the browser reconnects by itself and sends Last-Event-ID,
// so nothing is repeated or lost). Activity is reported to the page, which refreshes what it shows.
import { useEffect, useRef, useState } from "react";
import type { LogLine } from "../lib/control-plane";

type Connection = "connecting" | "live" | "reconnecting" | "ended" | "failed";

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Finished",
  failed: "Stream unavailable",
};

export function useJobStream(jobId: string, initial: LogLine[], onActivity: (kind: "log" | "status" | "end") => void) {
  const [lines, setLines] = useState<LogLine[]>(initial);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [problem, setProblem] = useState<string | null>(null);
  const lastId = useRef(initial.length ? initial[initial.length - 1]!.id : 0);
  const activity = useRef(onActivity);
  activity.current = onActivity;

  useEffect(() => {
    const source = new EventSource(`/v1/jobs/${encodeURIComponent(jobId)}/stream?after=${lastId.current}`);
    source.onopen = () => setConnection("live");
    source.addEventListener("log", (e) => {
      const line = JSON.parse((e as MessageEvent<string>).data) as LogLine;
      if (line.id <= lastId.current) return;
      lastId.current = line.id;
      setLines((prev) => [...prev, line]);
      activity.current("log");
    });
    source.addEventListener("status", () => activity.current("status"));
    source.addEventListener("end", () => {
      source.close();
      setConnection("ended");
      activity.current("end");
    });
    source.addEventListener("error", (e) => {
      // The server's own `error` event carries a message; a dropped connection is a bare Event.
      if (e instanceof MessageEvent) {
        source.close();
        setConnection("failed");
        setProblem(String((JSON.parse(e.data as string) as { message?: unknown }).message ?? "The stream failed"));
        return;
      }
      setConnection(source.readyState === EventSource.CLOSED ? "failed" : "reconnecting");
    });
    return () => source.close();
  }, [jobId]);

  return { lines, connection, problem };
}

export function LiveLog({ jobId, initial, onActivity }: { jobId: string; initial: LogLine[]; onActivity: (kind: "log" | "status" | "end") => void }) {
  const { lines, connection, problem } = useJobStream(jobId, initial, onActivity);
  const box = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);

  // Follow the end of the log unless the reader has scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  return (
    <div className="live-log" data-testid="live-log" data-connection={connection}>
      <div className="live-log-bar">
        <span className={`live-log-state live-log-state-${connection}`} data-testid="live-log-state">
          <span className="live-dot" aria-hidden="true" />
          {CONNECTION_TEXT[connection]}
        </span>
        <span className="muted">
          {lines.length} {lines.length === 1 ? "line" : "lines"} · secret values are redacted
        </span>
      </div>
      {lines.length ? (
        <ol
          ref={box}
          className="live-log-lines"
          aria-live="polite"
          onScroll={(e) => {
            const el = e.currentTarget;
            pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
        >
          {lines.map((l) => (
            <li key={l.id} className={`live-log-line live-log-${l.level}`} data-testid="log-line">
              <time dateTime={l.at} className="live-log-time">
                {l.at.slice(11, 23)}
              </time>
              <span className="live-log-level">{l.level}</span>
              <span className="live-log-message">{l.message}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="live-log-empty">{connection === "ended" ? "This job wrote no log lines." : "Waiting for the first line…"}</p>
      )}
      {problem ? <p className="live-log-problem error-text">{problem}</p> : null}
    </div>
  );
}
