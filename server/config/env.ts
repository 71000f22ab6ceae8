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
  CAIRN_APP_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  CAIRN_SECRET: z.string().min(32, "must be at least 32 characters (e.g. openssl rand -base64 48)").optional(),
  CAIRN_DATA_DIR: z.string().min(1, "must not be empty").default(".cairn"),
  CAIRN_CREDENTIALS_DIR: z.string().min(1, "must not be empty").optional(),
  CAIRN_EMBEDDED_PG_PORT: port(0),
  CAIRN_PUBLIC_URL: z.url("must be an absolute URL such as https://cairn.example.com").optional(),
  CAIRN_WORKER_PORT: port(3001),
  CAIRN_SCAN_ROOTS: z
    .string()
    .refine((v) => v.split(",").every((p) => p.trim().startsWith("/")), "must be a comma-separated list of absolute paths")
    .optional(),
  CAIRN_WORKER_CONCURRENCY: positiveInt(4, 256),
  CAIRN_DB_POOL_MAX: positiveInt(10, 200),
  CAIRN_BODY_LIMIT_BYTES: positiveInt(1_048_576, 1_073_741_824),
  CAIRN_INGEST_MAX_BYTES: positiveInt(134_217_728, 4_294_967_296),
  CAIRN_FLEET_SYNC_MAX_BYTES: positiveInt(4_194_304, 268_435_456),
  CAIRN_SHUTDOWN_TIMEOUT_MS: positiveInt(8_000, 120_000),
  CAIRN_MIGRATE_ON_START: z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .default("true")
    .transform((v) => v === "true" || v === "1"),
  CAIRN_EVIDENCE_STORE: z.enum(["filesystem", "s3"], { error: "must be filesystem or s3" }).default("filesystem"),
  CAIRN_EVIDENCE_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3–63 lowercase letters, digits, . and -)")
    .optional(),
  CAIRN_EVIDENCE_S3_PREFIX: z.string().max(512, "at most 512 characters").regex(/^[^\s\\]*$/, "must not contain spaces or backslashes").default(""),
  CAIRN_EVIDENCE_S3_REGION: z.string().min(1, "must not be empty").default("us-east-1"),
  CAIRN_EVIDENCE_S3_ENDPOINT: z.url("must be the URL of an S3-compatible server, such as http://minio:9000").optional(),
  CAIRN_EVIDENCE_S3_FORCE_PATH_STYLE: z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  CAIRN_SESSION_TTL_HOURS: positiveInt(24 * 14, 24 * 365),
  CAIRN_STEP_UP_WINDOW_SECONDS: positiveInt(300, 3600),
  CAIRN_KEY_ROTATION_GRACE_HOURS: positiveInt(24, 24 * 30),
  CAIRN_LOGIN_MAX_FAILURES: positiveInt(5, 1000),
  CAIRN_AGENT_JOIN_RATE_PER_MINUTE: positiveInt(300, 100_000),
  CAIRN_OIDC_ISSUER: z.url("must be the issuer URL of your OpenID provider").optional(),
  CAIRN_OIDC_CLIENT_ID: z.string().min(1).optional(),
  CAIRN_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  CAIRN_OIDC_LABEL: z.string().min(1).default("Single sign-on"),
  CAIRN_TRUST_PROXY: z.string().min(1, "must not be empty").default("loopback"),
  LOG_LEVEL: z.enum(logLevels).default("info"),
});

export type Env = z.infer<typeof envSchema> & {
  /** Absolute data directory (CAIRN_DATA_DIR resolved against the working directory). */
  dataDir: string;
  /** Origin users reach the UI at; defaults to http://localhost:PORT. */
  publicUrl: string;
  /** Absolute root of mounted credential directories (`file` provider): CAIRN_CREDENTIALS_DIR or <dataDir>/credentials. */
  credentialsDir: string;
  /** CAIRN_SCAN_ROOTS as absolute paths, or null (scans may read any path outside Cairn's own directories). */
  scanRoots: string[] | null;
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
      const secret = key === "CAIRN_SECRET" || key === "CAIRN_OIDC_CLIENT_SECRET";
      const shown = raw === undefined || secret ? "" : ` (got ${JSON.stringify(key.endsWith("DATABASE_URL") ? redactUrl(raw) : raw)})`;
      return `${key}: ${issue.message}${shown}`;
    });
    throw new InvalidEnvError(problems);
  }
  const data = result.data;
  const oidc = [data.CAIRN_OIDC_ISSUER, data.CAIRN_OIDC_CLIENT_ID, data.CAIRN_OIDC_CLIENT_SECRET];
  if (oidc.some(Boolean) && !oidc.every(Boolean)) {
    throw new InvalidEnvError(["CAIRN_OIDC_ISSUER, CAIRN_OIDC_CLIENT_ID and CAIRN_OIDC_CLIENT_SECRET: set all three to enable OIDC login, or none"]);
  }
  if (data.CAIRN_EVIDENCE_STORE === "s3" && !data.CAIRN_EVIDENCE_S3_BUCKET) {
    throw new InvalidEnvError(["CAIRN_EVIDENCE_S3_BUCKET: required when CAIRN_EVIDENCE_STORE is s3"]);
  }
  const dataDir = path.resolve(data.CAIRN_DATA_DIR);
  return {
    ...data,
    dataDir,
    credentialsDir: path.resolve(data.CAIRN_CREDENTIALS_DIR ?? path.join(dataDir, "credentials")),
    scanRoots: data.CAIRN_SCAN_ROOTS ? data.CAIRN_SCAN_ROOTS.split(",").map((p) => path.resolve(p.trim())) : null,
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

