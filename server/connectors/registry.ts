// Which source kinds have a working connector in this build. A kind without one is shown as `unsupported` and
// refuses to run; nothing is faked.
import type { SourceKind } from "../../db/schema/control.ts";
import type { Connector } from "./contract.ts";

const connectors = new Map<SourceKind, Connector>();

export function registerConnector(connector: Connector): void {
  connectors.set(connector.kind, connector);
}

export function connectorFor(kind: SourceKind | string): Connector | undefined {
  return connectors.get(kind as SourceKind);
}

export function supportedKinds(): SourceKind[] {
  return [...connectors.keys()];
}
