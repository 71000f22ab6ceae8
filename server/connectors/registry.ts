// Which source kinds have a working connector in this build. A kind without one is shown as `unsupported` and
// refuses to run; nothing is faked.
import { AsyncLocalStorage } from "node:async_hooks";
import type { SourceKind } from "../../db/schema/control.ts";
import type { Connector, PushIntake } from "./contract.ts";

const connectors = new Map<SourceKind, Connector>();

/**
 * Connectors for one execution only, ahead of the registry. A job whose connector already ran on a node agent (inside
 * the node's network) is finished by the control plane with the node's reported output standing in for that
 * connector, so the same pipeline handler runs either way (server/domain/fabric/agent-jobs.service.ts).
 */
const substitutes = new AsyncLocalStorage<ReadonlyMap<string, Connector>>();

export function registerConnector(connector: Connector): void {
  connectors.set(connector.kind, connector);
}

export function connectorFor(kind: SourceKind | string): Connector | undefined {
  return substitutes.getStore()?.get(kind) ?? connectors.get(kind as SourceKind);
}

/** Runs fn (and everything it awaits) with these connectors in place of the registered ones. */
export function withConnectorSubstitutes<T>(replacements: ReadonlyMap<string, Connector>, fn: () => T): T {
  return substitutes.run(replacements, fn);
}

export function supportedKinds(): SourceKind[] {
  return [...connectors.keys()];
}

/** For push kinds (ingest.result_push, ingest.fleet_sync): where their data arrives; null for kinds that run. */
export function pushIntakeOf(kind: SourceKind | string): PushIntake | null {
  return connectorFor(kind)?.push ?? null;
}

/** Where a push source's data arrives ("POST /v1/results/push?source_id=…"); null for sources that run. */
export function pushRouteOf(source: { id: string; kind: SourceKind | string }): string | null {
  const intake = pushIntakeOf(source.kind);
  return intake ? `POST ${intake.path}?source_id=${source.id}` : null;
}
