// Process entry: picks the mode from the command line. Configuration errors exit 2; start-up failures print one line and exit 1.
import { parseArgs } from "node:util";
import { pino } from "pino";
import { parseEnv, InvalidEnvError, type Env } from "./config/env.ts";
import { createLogger } from "./logger.ts";
import { usage, UsageError } from "./cli/usage.ts";
import { StartupError } from "../db/embedded-postgres.ts";
import { MissingBuildError } from "./http/app.ts";
import { version } from "./version.ts";

const MODES = ["web", "worker", "all", "migrate", "admin", "agent"] as const;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (!command || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  if (command === "-v" || command === "--version") {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (command === "audit") {
    // Offline: needs no configuration and no database.
    const { auditCommand } = await import("./cli/audit-verify.ts");
    return auditCommand(rest);
  }
  if (!(MODES as readonly string[]).includes(command)) throw new UsageError(`Unknown command: ${command}`);

  let env: Env;
  try {
    env = parseEnv();
  } catch (err) {
    if (err instanceof InvalidEnvError) {
      process.stderr.write(`${err.message}\nSee docs/operations.md for every variable.\n`);
      return 2;
    }
    throw err;
  }
  // Command-line tools keep stdout for their answer (often --json); their logs go to stderr.
  const log = command === "admin" ? createLogger(env.LOG_LEVEL === "info" ? "warn" : env.LOG_LEVEL, pino.destination(2)) : command === "agent" ? createLogger(env.LOG_LEVEL, pino.destination(2)) : createLogger(env.LOG_LEVEL);

  switch (command) {
    case "web":
    case "worker":
    case "all": {
      parseArgs({ args: rest, options: {}, strict: true, allowPositionals: false });
      const { serve } = await import("./modes/serve.ts");
      await serve(command, env, log);
      return undefined; // keeps running until a signal
    }
    case "migrate": {
      parseArgs({ args: rest, options: {}, strict: true, allowPositionals: false });
      const { migrate } = await import("./modes/migrate.ts");
      return migrate(env, log);
    }
    case "admin": {
      const { admin } = await import("./cli/admin.ts");
      return admin(rest, env, log);
    }
    case "agent": {
      // The node agent: talks to a control plane over signed HTTP, never to a database.
      const { agentCommand } = await import("./agent/agent-cli.ts");
      return agentCommand(rest, env, log);
    }
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" || e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      process.stderr.write(`cairn: ${e.message}\n\n${usage}`);
      process.exit(2);
    }
    if (err instanceof StartupError || err instanceof MissingBuildError) {
      process.stderr.write(`cairn: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`cairn: unexpected failure: ${e.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
