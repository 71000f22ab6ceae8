// A job's stored log: bounded (lines and bytes), secrets redacted, flushed in small batches in the job's tenant,
// with a NOTIFY so live viewers (SSE) pick new lines up at once.
import { sql } from "drizzle-orm";
import type { DbClient } from "../../db/client.ts";
import { withTenant } from "../../db/tenant.ts";
import { jobLogs } from "../../db/schema/index.ts";
import { EVENTS_CHANNEL, type JobRow } from "../queue/enqueue.ts";

export const MAX_LOG_LINES = 5_000;
export const MAX_LOG_BYTES = 1_048_576;
const MAX_LINE = 8_192;

export class JobLog {
  private pending: { level: string; message: string; createdAt: Date }[] = [];
  private secrets: string[] = [];
  private lines = 0;
  private bytes = 0;
  private truncated = false;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: DbClient,
    private readonly job: Pick<JobRow, "id" | "tenantId" | "runId">,
  ) {}

  redact(...values: string[]) {
    for (const v of values) if (v && v.length >= 4 && !this.secrets.includes(v)) this.secrets.push(v);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  private scrub(message: string): string {
    let out = message;
    for (const s of this.secrets) out = out.split(s).join("[REDACTED]");
    return out.length > MAX_LINE ? `${out.slice(0, MAX_LINE)}… [line cut at ${MAX_LINE} characters]` : out;
  }

  write(level: string, message: string) {
    if (this.truncated) return;
    const line = this.scrub(message);
    if (this.lines + 1 > MAX_LOG_LINES || this.bytes + line.length > MAX_LOG_BYTES) {
      this.truncated = true;
      this.pending.push({ level: "warn", message: `log truncated: over ${MAX_LOG_LINES} lines or ${MAX_LOG_BYTES} bytes; later lines were dropped`, createdAt: new Date() });
    } else {
      this.lines += 1;
      this.bytes += line.length;
      this.pending.push({ level, message: line, createdAt: new Date() });
    }
    this.timer ??= setTimeout(() => void this.flush(), 200);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (!batch.length) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        await withTenant(this.db, this.job.tenantId, async (tx) => {
          await tx.insert(jobLogs).values(batch.map((l) => ({ tenantId: this.job.tenantId, jobId: this.job.id, runId: this.job.runId, level: l.level, message: l.message, createdAt: l.createdAt })));
          await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ tenant_id: this.job.tenantId, job_id: this.job.id, run_id: this.job.runId, kind: "log" })})`);
        });
      } catch {
        /* a log line must never fail the job; the database outage shows elsewhere */
      }
    });
    return this.flushing;
  }
}
