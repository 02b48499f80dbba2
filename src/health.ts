import type { WorkerStatus } from "./queue/worker";
import type { StoreHealth } from "./store/types";

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/**
 * Readiness: the store can take a write, migrations are applied and the worker loop has made a
 * claim round recently. A failing check names itself so the operator knows where to look.
 */
export async function checkReadiness(store: StoreHealth, worker: WorkerStatus, staleAfterMs: number, now: number): Promise<ReadinessCheck[]> {
  const checks: ReadinessCheck[] = [];
  try {
    const w = await store.writable();
    checks.push({ name: "database_writable", ok: w.ok, detail: w.detail });
  } catch (err) {
    checks.push({ name: "database_writable", ok: false, detail: (err as Error).message });
  }
  try {
    const { pending } = await store.migrations();
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
