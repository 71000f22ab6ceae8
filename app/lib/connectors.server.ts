// Which source kinds this build can run, for pages that offer a kind to pick. The Remix build carries its own copy
// of server modules, so it registers the built-in connectors itself before reading the registry.
import "../../server/connectors/index.ts";
import { supportedKinds } from "../../server/connectors/registry.ts";

export function runnableKinds(): string[] {
  return supportedKinds();
}
