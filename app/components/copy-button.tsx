import { useEffect, useState } from "react";
import { CheckIcon, CopyIcon } from "./icons";

/** Copies a value to the clipboard and says so for a moment. */
export function CopyButton({ value, label = "Copy", testId }: { value: string; label?: string; testId?: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(t);
  }, [copied]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      setCopied("failed");
    }
  };

  return (
    <button type="button" className="button button-small" onClick={copy} data-testid={testId} aria-live="polite">
      {copied === "yes" ? <CheckIcon size={15} /> : <CopyIcon />}
      {copied === "yes" ? "Copied" : copied === "failed" ? "Select and copy" : label}
    </button>
  );
}
