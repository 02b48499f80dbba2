/** Validation and routing facts of an incoming update. Pure functions, tested alone. */
import { jsonDepthExceeds, tooDeep } from "../json-body";

/**
 * How deep an update may nest. The deepest real updates are around 11 levels: a callback query's
 * message → its reply_to_message → pinned_message → poll → options → text_entities → entity →
 * user, or an inline keyboard's button objects inside two arrays. 64 leaves room for what
 * Telegram adds over the years and is still far below what strains a recursive walk (JSON.stringify,
 * schema checks, the admin views): the attack that stalled the service used 16,000 levels.
 */
export const UPDATE_MAX_DEPTH = 64;

export type ParsedUpdate =
  | { ok: true; updateId: number; orderKey: string | null; type: string | null }
  | { ok: false; message: string };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const chatIdOf = (v: unknown): number | null => {
  if (!isObj(v)) return null;
  const chat = v.chat;
  if (isObj(chat) && typeof chat.id === "number") return chat.id;
  return null;
};

const fromIdOf = (v: unknown): number | null => {
  if (!isObj(v)) return null;
  for (const k of ["from", "user", "voter_chat"] as const) {
    const u = v[k];
    if (isObj(u) && typeof u.id === "number") return u.id;
  }
  return null;
};

/**
 * The chain an update belongs to: the chat when there is one (messages, edits, channel posts,
 * callback queries on a message, member changes, reactions, join requests, ...), else the user
 * (inline queries, payments, polls answers), else none. A chat's updates then run in order.
 */
export function orderKeyOf(update: Obj): { orderKey: string | null; type: string | null } {
  const type = Object.keys(update).find((k) => k !== "update_id") ?? null;
  if (type === null) return { orderKey: null, type };
  const body = update[type];
  const chatId = chatIdOf(body) ?? (isObj(body) ? chatIdOf(body.message) : null);
  if (chatId !== null) return { orderKey: `chat:${chatId}`, type };
  const userId = fromIdOf(body);
  if (userId !== null) return { orderKey: `user:${userId}`, type };
  return { orderKey: null, type };
}

/** Checks the body is an update Telegram could have sent: a JSON object with a usable update_id. */
export function parseUpdate(text: string): ParsedUpdate {
  if (jsonDepthExceeds(text, UPDATE_MAX_DEPTH)) return { ok: false, message: tooDeep(UPDATE_MAX_DEPTH) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: "body is not valid JSON" };
  }
  if (!isObj(value)) return { ok: false, message: "body must be a JSON object (a Telegram Update)" };
  const id = value.update_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    return { ok: false, message: "update_id must be a non-negative integer" };
  }
  const { orderKey, type } = orderKeyOf(value);
  return { ok: true, updateId: id, orderKey, type };
}

export const updateDedupeKey = (updateId: number) => `update:${updateId}`;
