// The only reader of process.env: every setting is parsed and validated here once, at start-up.
import path from "node:path";
import { z } from "zod";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const port = (fallback: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(0, "must be between 0 and 65535")
    .max(65535, "must be between 0 and 65535")
    .default(fallback);

const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback);

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port(3000),
  HOST: z.string().min(1, "must not be empty").default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  CAIRN_DATA_DIR: z.string().min(1, "must not be empty").default(".cairn"),
  CAIRN_EMBEDDED_PG_PORT: port(0),
  CAIRN_PUBLIC_URL: z.url("must be an absolute URL such as https://cairn.example.com").optional(),
  CAIRN_WORKER_PORT: port(3001),
  CAIRN_DB_POOL_MAX: positiveInt(10, 200),
  CAIRN_BODY_LIMIT_BYTES: positiveInt(1_048_576, 1_073_741_824),
  CAIRN_SHUTDOWN_TIMEOUT_MS: positiveInt(8_000, 120_000),
  CAIRN_MIGRATE_ON_START: z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .default("true")
    .transform((v) => v === "true" || v === "1"),
  CAIRN_TRUST_PROXY: z.string().min(1, "must not be empty").default("loopback"),
  LOG_LEVEL: z.enum(logLevels).default("info"),
});

export type Env = z.infer<typeof envSchema> & {
  /** Absolute data directory (CAIRN_DATA_DIR resolved against the working directory). */
  dataDir: string;
  /** Origin users reach the UI at; defaults to http://localhost:PORT. */
  publicUrl: string;
};

export class InvalidEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment variables:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "InvalidEnvError";
  }
}

/** Parse a set of variables (process.env by default); throws InvalidEnvError listing every problem. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const trimmed: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    trimmed[key] = value === undefined || value === "" ? undefined : value;
  }
  const result = envSchema.safeParse(trimmed);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "?");
      const raw = trimmed[key];
      const shown = raw === undefined ? "" : ` (got ${JSON.stringify(key === "DATABASE_URL" ? redactUrl(raw) : raw)})`;
      return `${key}: ${issue.message}${shown}`;
    });
    throw new InvalidEnvError(problems);
  }
  const data = result.data;
  return {
    ...data,
    dataDir: path.resolve(data.CAIRN_DATA_DIR),
    publicUrl: (data.CAIRN_PUBLIC_URL ?? `http://localhost:${data.PORT}`).replace(/\/$/, ""),
  };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, "//$1:***@");
}

let cached: Env | undefined;

/** The validated environment of this process. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}

/** Environment handed to child processes we spawn (PostgreSQL, git, connectors decide their own allowlists). */
export function inheritedProcessEnv(): NodeJS.ProcessEnv {
  return { ...process.env };
}

