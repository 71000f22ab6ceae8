// A receipt's status word, and a hook that keeps a page current while receipts on it are still being processed.
import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { RECEIPT_TONE, type ReceiptStatus } from "../lib/ingest";
import { StatusBadge } from "./status-badge";

export function ReceiptStatusBadge({ status }: { status: ReceiptStatus }) {
  return (
    <StatusBadge tone={RECEIPT_TONE[status]} testId="receipt-status">
      {status}
    </StatusBadge>
  );
}

export function useRefreshWhile(active: boolean, ms = 1000) {
  const revalidator = useRevalidator();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (revalidator.state === "idle") revalidator.revalidate();
    }, ms);
    return () => clearInterval(timer);
  }, [active, ms, revalidator]);
}
