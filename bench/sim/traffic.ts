/**
 * A realistic, skewed update mix for the Telegram simulator. Pure apart from the random source.
 *
 * Who is hot: a few very busy groups and channels and a long tail of quiet ones (Zipf), and many
 * private users each writing now and then. Commands (/start, /help) come from private users (many
 * users press /start once) and, rarely, from quiet groups, so the replies a bot must send stay
 * inside Telegram's limits (1/s per chat, 20/min per group) the way they would for a real bot.
 */
export type UpdateKind =
  | "private_text" | "private_start" | "private_help" | "group_text" | "group_help" | "edited_message"
  | "callback_query" | "channel_post" | "my_chat_member" | "message_reaction";

/** Share of each kind in the stream (sums to 1). */
export const DEFAULT_MIX: Record<UpdateKind, number> = {
  private_text: 0.28,
  private_start: 0.04,
  private_help: 0.02,
  group_text: 0.3,
  group_help: 0.002,
  edited_message: 0.078,
  callback_query: 0.08,
  channel_post: 0.08,
  my_chat_member: 0.03,
  message_reaction: 0.07,
};

export interface TrafficOptions {
  privateUsers: number;
  groups: number;
  channels: number;
  /** Zipf exponent for groups and channels: ~1 gives a few very hot chats and a long tail. */
  zipf: number;
  mix: Record<UpdateKind, number>;
}

export const DEFAULT_TRAFFIC: TrafficOptions = { privateUsers: 20_000, groups: 300, channels: 20, zipf: 1.1, mix: DEFAULT_MIX };

/** What the sender expects tgwh to do with an update: a reply in a chat, threaded to a message. */
export interface ExpectedReply {
  chatId: number;
  replyTo: number;
}

export interface SimUpdate {
  updateId: number;
  kind: UpdateKind;
  /** The chat Telegram queues this update behind (its per-chat delivery order). */
  chatId: number;
  body: Record<string, unknown>;
  expectReply: ExpectedReply | null;
}

/** Small fast seeded PRNG (mulberry32), so a soak run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cumulative weights for picking rank i with probability ∝ 1/(i+1)^s. */
function zipfTable(n: number, s: number): number[] {
  const w: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) w.push((sum += 1 / Math.pow(i + 1, s)));
  return w.map((x) => x / sum);
}

function pickCumulative(table: number[], r: number): number {
  let lo = 0;
  let hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function createTraffic(opts: TrafficOptions, random: () => number) {
  const groupTable = zipfTable(opts.groups, opts.zipf);
  const channelTable = zipfTable(opts.channels, opts.zipf);
  const kinds = Object.keys(opts.mix) as UpdateKind[];
  const kindTable: number[] = [];
  let acc = 0;
  for (const k of kinds) kindTable.push((acc += opts.mix[k]));
  const messageIds = new Map<number, number>();
  const nextMessageId = (chatId: number) => {
    const id = (messageIds.get(chatId) ?? 0) + 1;
    messageIds.set(chatId, id);
    return id;
  };
  const userId = () => 100_000 + Math.floor(random() * opts.privateUsers);
  const groupId = () => -(1_000_000_000 + pickCumulative(groupTable, random()));
  // Commands in groups come from the quiet half of the tail, which stays inside 20/min.
  const quietGroupId = () => -(1_000_000_000 + Math.floor(opts.groups / 2 + random() * (opts.groups / 2)));
  const channelId = () => -(1_001_000_000 + pickCumulative(channelTable, random()));
  const date = () => Math.floor(Date.now() / 1000);
  const user = (id: number) => ({ id, is_bot: false, first_name: `User${id}`, language_code: "en" });
  const privateChat = (id: number) => ({ id, type: "private", first_name: `User${id}` });
  const groupChat = (id: number) => ({ id, type: "supergroup", title: `Group ${-id}` });
  const text = () => `message ${Math.floor(random() * 1e9).toString(36)}`;
  const command = (cmd: string, botName?: string) => {
    const t = botName ? `${cmd}@${botName}` : cmd;
    return { text: t, entities: [{ type: "bot_command", offset: 0, length: t.length }] };
  };

  /** The next update of the stream, with the given update_id. */
  return function nextUpdate(updateId: number): SimUpdate {
    const kind = kinds[Math.min(kinds.length - 1, pickCumulative(kindTable, random() * acc))]!;
    let chatId: number;
    let body: Record<string, unknown>;
    let expectReply: ExpectedReply | null = null;
    switch (kind) {
      case "private_text":
      case "private_start":
      case "private_help": {
        chatId = userId();
        const message_id = nextMessageId(chatId);
        const content = kind === "private_text" ? { text: text() } : command(kind === "private_start" ? "/start" : "/help");
        body = { message: { message_id, date: date(), chat: privateChat(chatId), from: user(chatId), ...content } };
        if (kind !== "private_text") expectReply = { chatId, replyTo: message_id };
        break;
      }
      case "group_text":
      case "group_help": {
        chatId = kind === "group_help" ? quietGroupId() : groupId();
        const message_id = nextMessageId(chatId);
        const content = kind === "group_text" ? { text: text() } : command("/help", "tgwh_test_bot");
        body = { message: { message_id, date: date(), chat: groupChat(chatId), from: user(userId()), ...content } };
        if (kind === "group_help") expectReply = { chatId, replyTo: message_id };
        break;
      }
      case "edited_message": {
        chatId = groupId();
        const message_id = Math.max(1, (messageIds.get(chatId) ?? 1) - Math.floor(random() * 5));
        body = { edited_message: { message_id, date: date() - 30, edit_date: date(), chat: groupChat(chatId), from: user(userId()), text: text() } };
        break;
      }
      case "callback_query": {
        chatId = userId();
        body = {
          callback_query: {
            id: `${updateId}${Math.floor(random() * 1e6)}`,
            from: user(chatId),
            chat_instance: String(chatId * 7),
            data: `btn:${Math.floor(random() * 4)}`,
            message: { message_id: Math.max(1, messageIds.get(chatId) ?? 1), date: date() - 60, chat: privateChat(chatId), text: "pick one" },
          },
        };
        break;
      }
      case "channel_post": {
        chatId = channelId();
        body = { channel_post: { message_id: nextMessageId(chatId), date: date(), chat: { id: chatId, type: "channel", title: `Channel ${-chatId}` }, text: text() } };
        break;
      }
      case "my_chat_member": {
        chatId = userId();
        const blocked = random() < 0.5;
        body = {
          my_chat_member: {
            chat: privateChat(chatId),
            from: user(chatId),
            date: date(),
            old_chat_member: { status: blocked ? "member" : "kicked", user: { id: 123456789, is_bot: true, first_name: "Test Bot" } },
            new_chat_member: { status: blocked ? "kicked" : "member", user: { id: 123456789, is_bot: true, first_name: "Test Bot" } },
          },
        };
        break;
      }
      case "message_reaction": {
        chatId = groupId();
        body = {
          message_reaction: {
            chat: groupChat(chatId),
            message_id: Math.max(1, messageIds.get(chatId) ?? 1),
            user: user(userId()),
            date: date(),
            old_reaction: [],
            new_reaction: [{ type: "emoji", emoji: "👍" }],
          },
        };
        break;
      }
    }
    return { updateId, kind, chatId, body: { update_id: updateId, ...body }, expectReply };
  };
}
