// Running fabric changes from the browser: each goes through the tRPC client inside runWithStepUp (high-risk ones
// open the passkey dialog when the server asks), shows its failure, and reloads the page's data when it succeeds.
import { useCallback, useEffect, useRef, useState } from "react";
import { useRevalidator } from "@remix-run/react";
import { clientFailure } from "./identity";
import { isStepUpCancelled, useStepUp } from "./use-step-up";

export function useFabricAction() {
  const { runWithStepUp } = useStepUp();
  const revalidator = useRevalidator();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = useCallback(
    async <T>(label: string, fn: () => Promise<T>): Promise<T | null> => {
      setBusy(label);
      setError(null);
      try {
        const value = await runWithStepUp(fn);
        revalidator.revalidate();
        return value;
      } catch (err) {
        if (!isStepUpCancelled(err)) setError(clientFailure(err).message);
        return null;
      } finally {
        setBusy(null);
      }
    },
    [runWithStepUp, revalidator],
  );

  return { busy, error, setError, run };
}

/** Reloads the route's data every `ms` while the tab is visible (live health without a socket). */
export function useRevalidateEvery(ms: number, enabled = true) {
  const revalidator = useRevalidator();
  // The revalidator object changes with its state; the timer reads the latest one instead of restarting.
  const latest = useRef(revalidator);
  latest.current = revalidator;
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && latest.current.state === "idle") latest.current.revalidate();
    }, ms);
    return () => clearInterval(timer);
  }, [ms, enabled]);
}
