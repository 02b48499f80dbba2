// The SQLite store assembled; no SQL here (each file it builds on says builder or raw SQL at its top).
import type { Store, StoreRequirement } from "../types";
import { createSqliteAccountStore } from "./accounts";
import { createSqliteAuditStore } from "./audit";
import { backupDatabase } from "./backup";
import { withCheckpointThread, type CheckpointerOptions } from "./commit/checkpointer";
import { takeOverWalSync } from "./commit/wal-sync";
import { createWriter, type Writer, type WriterOptions } from "./commit/writer";
import { openDb, type Db, type Synchronous } from "./connection";
import { refuseMissingSqliteFile } from "./existing-file";
import { createSqliteHealth } from "./health";
import { createSqliteInitDataReplayStore } from "./init-data-replays";
import { createSqliteJobStore } from "./jobs";
import { adoptChainList, adoptWhenCreated, returnToChainIndex } from "./chains/adopt";
import { createChainAccess } from "./chains/access";
import { chainModeOf } from "./chains/chain-order";
import { applyMigrations } from "./migrate";
import { embeddedMigrations } from "./migrations";
import { createSqliteSettingStore } from "./settings";
import { createSqliteUserStore } from "./users";

export interface SqliteStoreOptions {
  path: string;
  synchronous: Synchronous;
  busyTimeoutMs: number;
  /** Apply pending migrations while opening (serve, and CLI commands that write). */
  migrate: boolean;
  /**
   * Refuse (MissingDatabaseError) instead of creating the file: the operator commands never make
   * an empty database (existing-file.ts says what each level checks).
   */
  mustExist?: StoreRequirement;
  /**
   * WAL checkpoints on their own thread and connection (commit/checkpointer.ts), so a COMMIT on the
   * main thread no longer stops for one: for `tgwh serve`. The callbacks feed metrics and logs.
   */
  checkpointThread?: Pick<CheckpointerOptions, "onReady" | "onCheckpoint" | "onError" | "onDeath"> | false;
  /** Group-commit figures (metrics) and failures (log). */
  onCommit?: WriterOptions["onCommit"];
  onCommitFailure?: WriterOptions["onFailure"];
  clock?: () => number;
}

/** The SQLite store plus its engine internals, for SQLite-only tests and benchmarks (never for callers). */
export interface SqliteStore extends Store {
  readonly engine: "sqlite";
  readonly internals: { db: Db; writer: Writer };
}

/**
 * Opens the SQLite file and builds the store on it: one connection, one group-commit writer that
 * every write goes through (new updates, claims, finishes, admin actions: one transaction and one
 * WAL fsync per batch), and at synchronous=FULL the WAL fsync done off the event loop
 * (commit/wal-sync.ts), so a resolved write survives power loss while the process keeps serving.
 */
export function createSqliteStore(opts: SqliteStoreOptions): SqliteStore {
  const clock = opts.clock ?? Date.now;
  if (opts.mustExist && opts.path !== ":memory:") refuseMissingSqliteFile(opts.path, opts.mustExist);
  const opened = openDb({ path: opts.path, synchronous: opts.synchronous, busyTimeoutMs: opts.busyTimeoutMs, migrate: opts.migrate });
  const checkpoints = opts.checkpointThread ? withCheckpointThread(opened, { ...opts.checkpointThread, busyTimeoutMs: opts.busyTimeoutMs }) : null;
  const db = checkpoints?.db ?? opened;
  // FULL: the writer fsyncs the WAL itself, off the event loop (see commit/wal-sync.ts).
  const walSync = opts.synchronous === "FULL" ? takeOverWalSync(db.sqlite, db.path) : null;
  const chains = createChainAccess(db.sqlite);
  const writer = createWriter(db.sqlite, {
    walSync,
    commitGate: checkpoints?.commitGate,
    onCommit: opts.onCommit,
    onFailure: opts.onCommitFailure,
    atBegin: chains.revalidate,
  });
  let closed = false;
  return {
    engine: "sqlite",
    location: opts.path,
    internals: { db, writer },
    jobs: createSqliteJobStore(db, writer, chains, clock),
    users: createSqliteUserStore(db, writer),
    accounts: createSqliteAccountStore(db, writer, clock),
    audit: createSqliteAuditStore(db, writer, clock),
    settings: createSqliteSettingStore(db, writer, clock),
    initDataReplays: createSqliteInitDataReplayStore(db, writer),
    health: createSqliteHealth(db),
    // Outside the writer on purpose: one IMMEDIATE transaction of its own (migrate.ts).
    migrate: async () => applyMigrations(db.sqlite, embeddedMigrations, adoptWhenCreated(db.sqlite)),
    chainMode: async () => chainModeOf(db.sqlite),
    // Through the writer: one transaction between group commits, durable before it resolves.
    setChainMode: (mode) =>
      writer.run(() => {
        const moved = mode === "list" ? adoptChainList(db.sqlite) : returnToChainIndex(db.sqlite);
        chains.revalidate(); // the ops after this one in the same transaction use the new mode
        return moved;
      }),
    backup: async (target) => backupDatabase(opts.path, target, opts.busyTimeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      writer.flush();
      walSync?.close();
      db.close();
    },
  };
}
