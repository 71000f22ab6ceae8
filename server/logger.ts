// Structured JSON logs (pino). Secrets, tokens and cookies are redacted wherever they appear in a log object.
import pino, { type Logger, type DestinationStream } from "pino";

export const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-api-key']",
  "res.headers['set-cookie']",
  "*.password",
  "*.newPassword",
  "*.token",
  "*.secret",
  "*.api_key",
  "*.apiKey",
  "*.databaseUrl",
  "*.DATABASE_URL",
  "password",
  "token",
  "secret",
  "api_key",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "cairn", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: "[REDACTED]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
