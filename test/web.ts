// The real Express app (no UI build needed) on an ephemeral port, over a test database.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWebApp } from "../server/http/app.ts";
import type { Runtime } from "../server/runtime.ts";

export async function startTestServer(rt: Runtime): Promise<{ base: string; close(): Promise<void> }> {
  const { app } = await createWebApp(rt, { applicationName: "cairn-test-web", withUi: false });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
