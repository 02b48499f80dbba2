import { timingSafeEqual } from "node:crypto";

/** Telegram's secret_token is 1–256 characters (config.ts checks ours); a block holds its length and bytes. */
const MAX_SECRET_BYTES = 256;
const BLOCK_BYTES = 2 + MAX_SECRET_BYTES;

/**
 * A secret as a fixed-size block: its byte length in the first two bytes, then its bytes, then
 * zeros. Two blocks are equal exactly when the strings are, and every block has the same size,
 * so one constant-time compare leaks neither the content nor the length. Longer strings (never
 * a valid secret) get a length that no accepted secret has, and their first bytes.
 */
function fillBlock(block: Buffer, s: string): void {
  block.fill(0, 2);
  const written = block.write(s, 2, MAX_SECRET_BYTES, "utf8");
  // Near the end a character may not have fitted: count the whole string then.
  const length = written < MAX_SECRET_BYTES - 3 ? written : Buffer.byteLength(s, "utf8");
  block.writeUInt16BE(Math.min(length, 0xffff), 0);
}

/** Accepted secrets' blocks, built once per secret (a rotation adds one; a handful at most). */
const blocks = new Map<string, Buffer>();
function blockOf(secret: string): Buffer {
  let b = blocks.get(secret);
  if (!b) {
    if (blocks.size >= 16) blocks.clear();
    b = Buffer.alloc(BLOCK_BYTES);
    fillBlock(b, secret);
    blocks.set(secret, b);
  }
  return b;
}

/** The header's block: reused, since the check is synchronous. */
const given = Buffer.alloc(BLOCK_BYTES);

/**
 * Constant-time check of the X-Telegram-Bot-Api-Secret-Token header against every accepted
 * secret (two during a rotation window). Compares fixed-size blocks with the length folded in
 * (see fillBlock): no hashing per request, and neither the content nor the length of a secret
 * leaks through timing.
 */
export function secretMatches(header: string | null, accepted: readonly string[]): boolean {
  if (header === null || accepted.length === 0) return false;
  fillBlock(given, header);
  let ok = false;
  for (const s of accepted) ok = timingSafeEqual(given, blockOf(s)) || ok;
  return ok;
}
