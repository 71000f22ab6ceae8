// A consequential action that asks once, in place, before it runs (no browser dialog).
import { useState } from "react";

export function ConfirmButton({
  label,
  prompt,
  confirmLabel,
  onConfirm,
  busy = false,
  tone = "danger",
  testId,
}: {
  label: string;
  prompt: string;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  /** "danger" for what cannot be undone; "neutral" for a consequential but recoverable step. */
  tone?: "danger" | "neutral";
  testId?: string;
}) {
  const [asking, setAsking] = useState(false);

  if (!asking) {
    return (
      <button type="button" className={tone === "danger" ? "button button-small button-danger-quiet" : "button button-small"} onClick={() => setAsking(true)} disabled={busy} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline" role="group" aria-label={prompt}>
      <span className="confirm-inline-prompt">{prompt}</span>
      <button
        type="button"
        className={tone === "danger" ? "button button-small button-danger" : "button button-small button-primary"}
        disabled={busy}
        onClick={() => {
          onConfirm();
          setAsking(false);
        }}
        data-testid={testId ? `${testId}-confirm` : undefined}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button button-small" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
