// `cairn agent …`: enroll this host as a node, run it, or show its local state. Needs no database.
import path from "node:path";
import { parseArgs } from "node:util";
import type { Env } from "../config/env.ts";
import type { Logger } from "../logger.ts";
import { UsageError } from "../cli/usage.ts";
import { AgentState, StateError } from "./agent-state.ts";
import { enroll } from "./enroll.ts";
import { runAgent } from "./run-agent.ts";
import "../connectors/index.ts";

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function concurrency(value: string | undefined): number {
  const n = Number(value ?? 2);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new UsageError("--concurrency must be a whole number from 1 to 32");
  return n;
}

export async function agentCommand(args: string[], env: Env, log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  const defaultStateDir = path.join(env.dataDir, "agent");
  try {
    switch (sub) {
      case "enroll": {
        const { values } = parseArgs({
          args: rest,
          options: {
            url: { type: "string" },
            token: { type: "string" },
            "state-dir": { type: "string" },
            cluster: { type: "string" },
            name: { type: "string" },
            "ca-fingerprint": { type: "string" },
            wait: { type: "string" },
            concurrency: { type: "string" },
          },
          strict: true,
          allowPositionals: false,
        });
        if (!values.url || !values.token) throw new UsageError("agent enroll needs --url URL and --token TOKEN");
        if (!/^https?:\/\//.test(values.url)) throw new UsageError("--url must be the control plane's http(s) address");
        const wait = Number(values.wait ?? 3600);
        if (!Number.isInteger(wait) || wait < 0) throw new UsageError("--wait must be a number of seconds (0: wait indefinitely)");
        return await enroll({
          url: values.url,
          token: values.token,
          stateDir: values["state-dir"] ?? defaultStateDir,
          cluster: values.cluster,
          name: values.name,
          caFingerprint: values["ca-fingerprint"],
          waitSeconds: wait,
          concurrency: concurrency(values.concurrency),
          out,
          log,
        });
      }
      case "run": {
        const { values } = parseArgs({ args: rest, options: { "state-dir": { type: "string" }, concurrency: { type: "string" } }, strict: true, allowPositionals: false });
        const stop = new AbortController();
        process.once("SIGTERM", () => stop.abort());
        process.once("SIGINT", () => stop.abort());
        return await runAgent({ stateDir: values["state-dir"] ?? defaultStateDir, concurrency: concurrency(values.concurrency), env, log, err, stopSignal: stop.signal });
      }
      case "status": {
        const { values } = parseArgs({ args: rest, options: { "state-dir": { type: "string" }, json: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
        const state = AgentState.open(values["state-dir"] ?? defaultStateDir);
        const identity = state.identity();
        const snapshot = state.snapshot();
        const status = {
          state_dir: state.dir,
          enrolled: Boolean(identity),
          identity,
          pending_enrollment: state.enrollment(),
          desired_state: snapshot ? { version: snapshot.payload.version, issued_at: snapshot.payload.issued_at, workloads: snapshot.payload.workloads } : null,
        };
        if (values.json) out(JSON.stringify(status));
        else if (identity) out(`Node ${identity.node_id} of cluster ${identity.cluster.slug} at ${identity.url}\nCertificate ${identity.certificate_serial}, valid until ${identity.certificate_not_after}\nDesired state: ${snapshot ? `version ${snapshot.payload.version}, ${snapshot.payload.workloads.map((w) => `${w.type} ${w.desired}`).join(", ") || "no workloads"}` : "none yet"}`);
        else out(status.pending_enrollment ? `Enrollment pending: join request ${status.pending_enrollment.request_id}` : "Not enrolled");
        return 0;
      }
      default:
        throw new UsageError(sub ? `Unknown agent command: ${sub}` : "agent needs a command: enroll, run or status");
    }
  } catch (e) {
    if (e instanceof StateError) {
      err(`cairn agent: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
