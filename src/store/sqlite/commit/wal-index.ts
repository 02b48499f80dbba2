import { closeSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";

/** How far the WAL is ahead of the database file, in frames (pages). */
export interface WalProgress {
  /** Frames in the WAL since it was last reset (SQLite's mxFrame). */
  frames: number;
  /** Of those, frames already copied into the database file (nBackfill). */
  backfilled: number;
}

export interface WalIndexReader {
  /** null when the header could not be read (the caller then checkpoints unconditionally). */
  read(): WalProgress | null;
  close(): void;
}

// Offsets in the -shm file (https://www.sqlite.org/walformat.html, "The WAL-Index Header"):
// the first copy of WalIndexHdr holds mxFrame at byte 16; WalCkptInfo starts after the two
// 48-byte header copies, with nBackfill first (byte 96). The -shm layout is shared by every
// process that opens the database, whatever its SQLite version, so it does not change.
const HEADER_BYTES = 136;
const MX_FRAME = 16;
const N_BACKFILL = 96;

/**
 * Reads the WAL's progress straight from the -shm file: a 136-byte pread, no lock and no SQLite
 * call, so it can be polled often. The values are SQLite's own counters in native byte order;
 * a read racing a commit may be one transaction stale, which only shifts a checkpoint by a poll.
 */
export function openWalIndex(dbPath: string): WalIndexReader {
  const fd = openSync(`${dbPath}-shm`, "r");
  const buf = Buffer.alloc(HEADER_BYTES);
  const little = endianness() === "LE";
  return {
    read() {
      try {
        if (readSync(fd, buf, 0, HEADER_BYTES, 0) < HEADER_BYTES) return null;
      } catch {
        return null;
      }
      const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
      return { frames: u32(MX_FRAME), backfilled: u32(N_BACKFILL) };
    },
    close: () => closeSync(fd),
  };
}
