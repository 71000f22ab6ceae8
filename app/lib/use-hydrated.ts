import { useEffect, useState } from "react";

/** False during server rendering and the hydration pass, true afterwards: gate browser-only output (local times) on it. */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
