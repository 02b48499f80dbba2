import type { Db } from "./db/client";
import { pendingMigrations } from "./db/client";
import type { WorkerStatus } from "./queue/worker";

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * Readiness: the database takes a write lock, migrations are applied and the worker loop has
 * made a claim round recently. A failing check names itself so the operator knows where to look.
 */
export function checkReadiness(db: Db, worker: WorkerStatus, staleAfterMs: number, now: number): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  try {
    db.sqlite.run("BEGIN IMMEDIATE");
    db.sqlite.run("ROLLBACK");
    checks.push({ name: "database_writable", ok: true });
  } catch (err) {
    if (db.sqlite.inTransaction) db.sqlite.run("ROLLBACK");
    checks.push({ name: "database_writable", ok: false, detail: (err as Error).message });
  }
  try {
    const pending = pendingMigrations(db);
    checks.push({ name: "migrations_applied", ok: pending.length === 0, detail: pending.length ? `pending: ${pending.join(", ")}` : undefined });
  } catch (err) {
    checks.push({ name: "migrations_applied", ok: false, detail: (err as Error).message });
  }
  const fresh = worker.lastRoundAt !== null && now - worker.lastRoundAt <= staleAfterMs;
  checks.push({
    name: "worker_alive",
    ok: worker.running && fresh && worker.lastError === null,
    detail: !worker.running
      ? "worker not started (waiting for getMe?)"
      : worker.lastError
        ? `last claim failed: ${worker.lastError}`
        : !fresh
          ? `no claim round for over ${staleAfterMs} ms`
          : undefined,
  });
  return checks;
}
