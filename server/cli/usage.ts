export const usage = `Usage: cairn <command> [options]

Commands:
  web                 HTTP server: UI, tRPC at /api/trpc, REST at /v1 (and, later, the scheduler)
  worker              Drains the job table; serves only /healthz, /readyz and /metrics on CAIRN_WORKER_PORT
  all                 web + worker in one process (the local default; npm start runs this)
  migrate             Apply the SQL migrations in drizzle/ and exit
  admin status        Show database kind, reachability and migration state (--json for machines)

Options:
  -h, --help          Show this help
  -v, --version       Print the version

With no DATABASE_URL, Cairn uses an embedded PostgreSQL in $CAIRN_DATA_DIR/pg (default ./.cairn).
Environment variables are documented in docs/operations.md.
`;

export class UsageError extends Error {}
