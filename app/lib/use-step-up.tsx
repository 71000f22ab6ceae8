// Step-up for high-risk actions: runWithStepUp(fn) runs fn; if the server answers STEP_UP_REQUIRED it asks the person to
// confirm with a passkey, then runs fn once more. Wrap a whole bulk action in one call, so one step-up covers the batch.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { StepUpDialog, type StepUpPhase } from "../components/step-up-dialog";
import { useTRPCClient } from "./trpc";
import { confirmWithPasskey, describeCeremonyError, failureReason, isStepUpRequired, type StepUpOptions } from "./webauthn";

/** Thrown by runWithStepUp when the person closes the dialog instead of confirming: nothing was done, say nothing. */
export class StepUpCancelledError extends Error {
  constructor() {
    super("Step-up cancelled");
    this.name = "StepUpCancelledError";
  }
}

export function isStepUpCancelled(err: unknown): boolean {
  return err instanceof StepUpCancelledError;
}

interface StepUpApi {
  runWithStepUp<T>(fn: () => Promise<T>): Promise<T>;
}

const StepUpContext = createContext<StepUpApi | null>(null);

interface Pending {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function StepUpProvider({ children }: { children: ReactNode }) {
  const client = useTRPCClient();
  const [open, setOpen] = useState(false);
  const [phase, setPhase] = useState<StepUpPhase>("preparing");
  const [error, setError] = useState<string | null>(null);
  // One step-up at a time: actions that hit STEP_UP_REQUIRED together all wait for the same dialog.
  const pending = useRef<Pending | null>(null);
  // Options fetched when the dialog opens, so "Use passkey" goes straight to the authenticator (and a person
  // without a passkey is told so at once).
  const prepared = useRef<StepUpOptions | null>(null);

  const settle = useCallback((confirmed: boolean) => {
    const current = pending.current;
    pending.current = null;
    prepared.current = null;
    setOpen(false);
    if (confirmed) current?.resolve();
    else current?.reject(new StepUpCancelledError());
  }, []);

  const onFailure = useCallback((err: unknown) => {
    prepared.current = null;
    if (failureReason(err) === "no_passkey") {
      setPhase("no_passkey");
    } else {
      setError(describeCeremonyError(err));
      setPhase("failed");
    }
  }, []);

  const requestStepUp = useCallback((): Promise<void> => {
    if (pending.current) return pending.current.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    pending.current = { promise, resolve, reject };
    prepared.current = null;
    setError(null);
    setPhase("preparing");
    setOpen(true);
    client.passkeys.stepUpOptions.mutate().then(
      (options) => {
        if (pending.current?.promise !== promise) return;
        prepared.current = options;
        setPhase("ready");
      },
      (err: unknown) => {
        if (pending.current?.promise === promise) onFailure(err);
      },
    );
    return promise;
  }, [client, onFailure]);

  const confirm = useCallback(async () => {
    setPhase("working");
    setError(null);
    try {
      const options = prepared.current ?? undefined;
      prepared.current = null;
      await confirmWithPasskey(client, options);
      settle(true);
    } catch (err) {
      onFailure(err);
    }
  }, [client, onFailure, settle]);

  // Leaving the app mid-dialog abandons the action.
  useEffect(() => () => pending.current?.reject(new StepUpCancelledError()), []);

  const runWithStepUp = useCallback(
    async <T,>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (!isStepUpRequired(err)) throw err;
        await requestStepUp();
        return fn();
      }
    },
    [requestStepUp],
  );

  const api = useMemo<StepUpApi>(() => ({ runWithStepUp }), [runWithStepUp]);
  return (
    <StepUpContext.Provider value={api}>
      {children}
      {open ? <StepUpDialog phase={phase} error={error} onConfirm={() => void confirm()} onCancel={() => settle(false)} /> : null}
    </StepUpContext.Provider>
  );
}

export function useStepUp(): StepUpApi {
  const api = useContext(StepUpContext);
  if (!api) throw new Error("useStepUp must be used inside <StepUpProvider>");
  return api;
}
