// Importing this module registers every built-in connector (server/connectors/registry.ts). Import it once at
// start-up, before sources are listed or runs are created, so supported kinds are known everywhere.
import { registerConnector } from "./registry.ts";
import { fleetSyncConnector, resultPushConnector } from "../ingest/push-connectors.ts";
import { mcpConfigConnector } from "./mcp-config/mcp-config.connector.ts";
import { repoConnector } from "./repo/repo.connector.ts";
import { customConnector } from "./custom/custom.connector.ts";

registerConnector(mcpConfigConnector);
registerConnector(repoConnector);
registerConnector(customConnector);
registerConnector(resultPushConnector);
registerConnector(fleetSyncConnector);
