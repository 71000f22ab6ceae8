export const usage = `Usage: cairn <command> [options]

Commands:
  web                 HTTP server: UI, tRPC at /api/trpc, REST at /v1 (and, later, the scheduler)
  worker              Drains the job table; serves only /healthz, /readyz and /metrics on CAIRN_WORKER_PORT
  all                 web + worker in one process (the local default; npm start runs this)
  migrate             Apply the SQL migrations in drizzle/ and exit
  admin status [--json]
                      Show database kind, reachability and migration state
  admin bootstrap --tenant SLUG [--high-risk] [--json]
                      Create (if missing) the tenant and its admin (one-time password); always mint a new
                      tenant-admin API key. Break-glass: audited, no WebAuthn.
  admin api-key create (--tenant SLUG --role ROLE | --platform) [--high-risk] [--name NAME] [--json]
                      Mint an API key outside the UI (break-glass, audited)
  agent enroll --url URL --token TOKEN [--state-dir DIR] [--cluster SLUG] [--name NAME]
               [--ca-fingerprint SHA256] [--wait SECONDS]
                      Enroll this host as a node: generates its key here, sends a join request, waits for
                      a platform owner's approval and stores the node's identity and certificate
  agent run [--state-dir DIR] [--concurrency N]
                      Run the enrolled node: heartbeats, signed desired state, assigned workloads (scan-worker)
  agent status [--state-dir DIR] [--json]
                      Show the node's local identity, pending enrollment and desired state
  audit verify FILE [--public-key PEM|FILE] [--json]
                      Check an exported audit log offline: edited, removed or reordered lines fail

Options:
  -h, --help          Show this help
  -v, --version       Print the version

With no DATABASE_URL, Cairn uses an embedded PostgreSQL in $CAIRN_DATA_DIR/pg (default ./.cairn).
Environment variables are documented in docs/operations.md.
`;

export class UsageError extends Error {}
