// A trust change that needs a reason for the audit log (revoke, reject, mark degraded, recover): a button that opens
// an inline form asking why, then runs the action. High-risk actions then ask for the passkey step-up themselves.
import { useId, useState, type FormEvent } from "react";

export function ReasonAction({
  label,
  prompt,
  confirmLabel,
  placeholder,
  onConfirm,
  busy = false,
  tone = "danger",
  testId,
}: {
  label: string;
  prompt: string;
  confirmLabel: string;
  placeholder?: string;
  /** Resolves true when the action succeeded (the form then closes). */
  onConfirm: (reason: string) => Promise<boolean>;
  busy?: boolean;
  tone?: "danger" | "neutral";
  testId: string;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const id = useId();

  if (!open) {
    return (
      <button type="button" className={tone === "danger" ? "button button-small button-danger-quiet" : "button button-small"} onClick={() => setOpen(true)} disabled={busy} data-testid={testId}>
        {label}
      </button>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await onConfirm(reason.trim())) {
      setOpen(false);
      setReason("");
    }
  };
  return (
    <form className="fabric-reason-form" onSubmit={(e) => void submit(e)} data-testid={`${testId}-form`}>
      <label className="field-label" htmlFor={id}>
        {prompt}
      </label>
      <input
        id={id}
        className="input input-compact"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        required
        maxLength={500}
        placeholder={placeholder ?? "Reason, recorded in the audit log"}
        autoComplete="off"
        data-testid={`${testId}-reason`}
        autoFocus
      />
      <span className="inline-group">
        <button type="submit" className={tone === "danger" ? "button button-small button-danger" : "button button-small button-primary"} disabled={busy || !reason.trim()} data-testid={`${testId}-confirm`}>
          {busy ? "Working…" : confirmLabel}
        </button>
        <button type="button" className="button button-small" onClick={() => setOpen(false)} disabled={busy}>
          Cancel
        </button>
      </span>
    </form>
  );
}
