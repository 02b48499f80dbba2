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

/**
 * The check of the X-Telegram-Bot-Api-Secret-Token header against every accepted secret (two
 * during a rotation window), built once per handler: the secrets' blocks are filled here, so a
 * request only fills the header's block and compares. Each compare is constant-time over
 * fixed-size blocks with the length folded in (see fillBlock): no hashing per request, and
 * neither the content nor the length of a secret leaks through timing. Every accepted secret is
 * compared, matched or not, so which one matched does not show either.
 */
export function createSecretCheck(accepted: readonly string[]): (header: string | null) => boolean {
  const blocks = accepted.map((secret) => {
    const b = Buffer.alloc(BLOCK_BYTES);
    fillBlock(b, secret);
    return b;
  });
  // The header's block: one per check, reused, since a check is synchronous.
  const given = Buffer.alloc(BLOCK_BYTES);
  // Named so the CPU profile's "secret check" rule (bench/lib/cpuprofile.ts) still finds it.
  return function secretMatches(header: string | null): boolean {
    if (header === null || blocks.length === 0) return false;
    fillBlock(given, header);
    let ok = false;
    for (const b of blocks) ok = timingSafeEqual(given, b) || ok;
    return ok;
  };
}
