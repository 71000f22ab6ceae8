// The "Confirm it's you" dialog a high-risk action opens when the server asks for a fresh passkey assertion.
// A native modal <dialog>: focus stays inside, Escape cancels, and the page behind cannot be clicked.
import { useEffect, useRef, type CSSProperties } from "react";
import { Link } from "@remix-run/react";

export type StepUpPhase = "preparing" | "ready" | "working" | "failed" | "no_passkey";

// Styled inline so the dialog looks the same on whichever page opens it (pages link their own stylesheets).
const dialogStyle: CSSProperties = {
  width: "min(28rem, calc(100vw - 2rem))",
  padding: "var(--space-6)",
  border: "1px solid var(--color-border)",
  borderRadius: "var(--radius-lg)",
  background: "var(--color-surface)",
  color: "var(--color-text)",
  boxShadow: "var(--shadow-md)",
};
const titleStyle: CSSProperties = { fontSize: "var(--text-lg)", fontWeight: 650, margin: 0 };
const bodyStyle: CSSProperties = { margin: "var(--space-3) 0 0", color: "var(--color-text-muted)" };
const actionsStyle: CSSProperties = { display: "flex", justifyContent: "flex-end", gap: "var(--space-2)", marginTop: "var(--space-6)" };

export function StepUpDialog({
  phase,
  error,
  onConfirm,
  onCancel,
}: {
  phase: StepUpPhase;
  /** Why the last attempt failed, shown when `phase` is "failed". */
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);

  // Rendered only while open, so opening is mounting.
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const busy = phase === "working";
  return (
    <dialog
      ref={ref}
      style={dialogStyle}
      data-testid="step-up-dialog"
      data-phase={phase}
      aria-labelledby="step-up-title"
      aria-describedby="step-up-body"
      onCancel={(e) => {
        // Escape: cancel the action, unless the authenticator prompt is already up.
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id="step-up-title" style={titleStyle}>
        Confirm it&rsquo;s you
      </h2>
      {phase === "no_passkey" ? (
        <p id="step-up-body" style={bodyStyle} data-testid="step-up-no-passkey">
          This action needs a fresh check with a passkey, and you have not added one yet. Add a passkey on the{" "}
          <Link to="/settings/passkeys" onClick={onCancel} data-testid="step-up-add-passkey">
            Passkeys page
          </Link>
          , then try the action again.
        </p>
      ) : (
        <p id="step-up-body" style={bodyStyle}>
          This is a high-risk action. Use your passkey to confirm it&rsquo;s you; Cairn then lets high-risk actions through for a few minutes.
        </p>
      )}
      {phase === "failed" && error ? (
        <p role="alert" className="error-text" style={bodyStyle} data-testid="step-up-error">
          {error}
        </p>
      ) : null}
      <div style={actionsStyle}>
        <button type="button" className="button" onClick={onCancel} disabled={busy} data-testid="step-up-cancel">
          Cancel
        </button>
        {phase !== "no_passkey" ? (
          <button
            type="button"
            className="button button-primary"
            onClick={onConfirm}
            disabled={busy || phase === "preparing"}
            aria-busy={busy || phase === "preparing"}
            data-testid="step-up-confirm"
          >
            {busy ? "Waiting for your passkey…" : "Use passkey"}
          </button>
        ) : null}
      </div>
    </dialog>
  );
}
