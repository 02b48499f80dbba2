/** What the main thread and the checkpoint thread (checkpoint-thread.ts) say to each other. */

export interface CheckpointSettings {
  path: string;
  /** Checkpoint once this many WAL frames are not yet in the database file. */
  copyFrames: number;
  pollMs: number;
  busyTimeoutMs: number;
  /** One Int32 the thread sets to 1 (and notifies) once its connection is closed: stop() waits on it. */
  closed: SharedArrayBuffer;
}

export type ToCheckpointThread =
  | { t: "start"; settings: CheckpointSettings }
  /** The writer is holding its commits: copy everything now, so its next commit resets the WAL. */
  | { t: "catch_up"; id: number }
  | { t: "stop" };

export type FromCheckpointThread =
  /** The connection is open and polling started. */
  | { t: "ready" }
  /** A checkpoint ran: SQLite's (busy, log, checkpointed) figures. */
  | { t: "checkpointed"; busy: number; log: number; checkpointed: number }
  /** Answer to catch_up `id` (done as far as readers allow): the writer may commit again. */
  | { t: "caught_up"; id: number }
  /** Something failed; fatal means the thread gave up (it ends after this message). */
  | { t: "error"; message: string; fatal: boolean }
  | { t: "stopped" };
