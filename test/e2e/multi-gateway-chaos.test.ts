/**
 * Three compiled gateways on one PostgreSQL and one Redis (issue 15, item 6). Updates go to all
 * of them, over many chats, some update_ids to two gateways at once; mid-run one gateway is
 * killed with -9 (and started again after its leases expired, so the others took its jobs over)
 * and Redis is restarted empty. Then, from the store, the gateways' logs and the fake Bot API:
 * every acknowledged update was processed, none completed twice, each chat's replies came in
 * update order, and what arrived at the Bot API kept Telegram's limits (30 a second overall,
 * one a second per chat) in every sliding window.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeBotApi, type FakeBotApi, type RecordedCall } from "../support/fake-bot-api";
import { startGateway, stopGateways, type GatewayOptions } from "../support/gateways";
import { HAVE_POSTGRES, sharedPostgres, type TestPostgres } from "../support/postgres";
import { HAVE_REDIS, startRedis, type TestRedis } from "../support/redis";
import { busiestWindow, crowdedWindows, tooClose } from "../support/send-windows";
import { messageUpdate, postUpdate, waitFor, type TgwhProcess } from "../support/tgwh";

const GATEWAYS = 3;
const CHATS = 48;
/** Chats that get two updates back to back each round: their replies wait on the chat's second. */
const BUSY_CHATS = 6;
const ROUNDS = 6;
const ROUND_MS = 1300;
const PER_SECOND = 30;
const LEASE_SECONDS = 3;
/** The schedule, in ms from the first post. The killed gateway comes back once its leases ran out. */
const KILL_AT = 2500;
const REDIS_RESTART_AT = 5000;
const RESTART_AT = KILL_AT + LEASE_SECONDS * 1000 + 2000;
const TIMEOUT = 120_000;
const SEND_ANSWER_MS = 150;

const CHAT_BASE = 880_000;
const FIRST_UPDATE = 5_000_000;

let pg: TestPostgres;
let db: { name: string; url: string; drop(): Promise<void> };
let redis: TestRedis;
let api: FakeBotApi;
/** The gateway behind each slot now (a restart replaces it); every process ever started, for logs and afterAll. */
const slots: TgwhProcess[] = [];
const started: TgwhProcess[] = [];
let gatewayOptions: (i: number) => GatewayOptions;

async function startSlot(i: number): Promise<void> {
  const g = await startGateway(gatewayOptions(i));
  slots[i] = g;
  started.push(g);
}

beforeAll(async () => {
  if (!HAVE_POSTGRES || !HAVE_REDIS) return;
  pg = await sharedPostgres();
  db = await pg.createDatabase();
  redis = await startRedis();
  // Each answer takes a moment, as Telegram's do: sends are in flight when the gateway is killed.
  api = startFakeBotApi({ decide: (call) => (call.method === "sendMessage" ? { kind: "delay", ms: SEND_ANSWER_MS } : null) });
  gatewayOptions = (i) => ({
    databaseUrl: db.url,
    instanceId: `gw${i + 1}`,
    env: {
      TGWH_TELEGRAM_API: api.url,
      TGWH_REDIS_URL: redis.url,
      TGWH_SEND_PER_SECOND: String(PER_SECOND),
      TGWH_LEASE_SECONDS: String(LEASE_SECONDS),
      TGWH_LOG_LEVEL: "info",
    },
  });
  await Promise.all(Array.from({ length: GATEWAYS }, (_, i) => startSlot(i)));
  // Shared by all three before the first post, so the run starts from the normal state.
  const shared = async (g: TgwhProcess) => /^tgwh_limits_gateways 3$/m.test(await (await fetch(`${g.url}/metrics`)).text());
  for (const g of slots) await waitFor(() => shared(g), 20_000, `${g.url} sharing limits with 3 gateways`, g.logs);
}, TIMEOUT);

afterAll(async () => {
  await stopGateways(started);
  api?.stop();
  await redis?.dispose();
  await db?.drop();
});

/**
 * Delivers one update as Telegram behind a load balancer would: to `first`, and when that gateway
 * does not answer 200 (killed, refusing), to the next one. `alsoTo`: the same update_id to a
 * second gateway at the same moment. True once any gateway answered 200.
 */
async function deliver(update: Record<string, unknown>, first: number, alsoTo?: number): Promise<boolean> {
  const attempt = async (slot: number): Promise<boolean> => {
    for (let k = 0; k < GATEWAYS * 3; k++) {
      const g = slots[(slot + k) % GATEWAYS]!;
      try {
        if ((await postUpdate(g.url, update)).status === 200) return true;
      } catch {
        // connection refused or reset: the gateway is down
      }
      await Bun.sleep(50);
    }
    return false;
  };
  const results = await Promise.all(alsoTo === undefined ? [attempt(first)] : [attempt(first), attempt(alsoTo)]);
  return results.some(Boolean);
}

interface Posted {
  acked: Set<number>;
  /** Per chat, the update_ids acknowledged, in the order they were posted. */
  byChat: Map<number, number[]>;
  killedAt: number;
}

/** Posts ROUNDS rounds to every chat (busy chats twice per round) while the schedule runs. */
async function postWhileFaultsHappen(): Promise<Posted> {
  const acked = new Set<number>();
  const byChat = new Map<number, number[]>();
  let nextId = FIRST_UPDATE;
  let killedAt = 0;
  const t0 = Date.now();
  const at = (ms: number) => Bun.sleep(Math.max(0, t0 + ms - Date.now()));
  const schedule = (async () => {
    await at(KILL_AT);
    await midSend("gw2", 1500);
    await slots[1]!.kill9();
    killedAt = Date.now(); // it is gone: everything it sent arrived before this
    await at(REDIS_RESTART_AT);
    await redis.restart();
    await at(RESTART_AT);
    await startSlot(1);
  })();
  for (let round = 0; round < ROUNDS; round++) {
    await at(round * ROUND_MS);
    const posts: Promise<void>[] = [];
    for (let c = 0; c < CHATS; c++) {
      const chat = CHAT_BASE + c;
      const ids = Array.from({ length: c < BUSY_CHATS ? 2 : 1 }, () => nextId++);
      posts.push(
        (async () => {
          for (const id of ids) {
            // Telegram sends a chat's next update only after the previous one was acknowledged.
            const ok = await deliver(messageUpdate(id, chat, "/start"), id % GATEWAYS, id % 5 === 0 ? (id + 1) % GATEWAYS : undefined);
            if (!ok) return;
            acked.add(id);
            byChat.set(chat, [...(byChat.get(chat) ?? []), id]);
          }
        })(),
      );
    }
    await Promise.all(posts);
  }
  await schedule;
  return { acked, byChat, killedAt };
}

/**
 * Waits (at most `ms`) for a moment when `instance` runs jobs and a send is on its way to the
 * Bot API: a kill then most likely cuts a send short, so its job runs again elsewhere.
 */
async function midSend(instance: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const inFlight = api.callsOf("sendMessage").some((c) => c.status === undefined);
    const [running] = await pg.admin<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'running' AND lease_owner LIKE $1`, [`${instance}/%`], db.name);
    if (inFlight && Number(running!.n) > 0) return;
    await Bun.sleep(5);
  }
}

const repliedTo = (c: RecordedCall) => Number((c.payload.reply_parameters as { message_id: number } | undefined)?.message_id);

/** "job done" lines per update_id, over every process's log (the killed one's included). */
function completions(): Map<number, number> {
  const out = new Map<number, number>();
  for (const g of started) {
    for (const line of g.logLines()) {
      if (line.msg === "job done" && typeof line.update_id === "number") out.set(line.update_id, (out.get(line.update_id) ?? 0) + 1);
    }
  }
  return out;
}

describe.skipIf(!HAVE_POSTGRES || !HAVE_REDIS)("three gateways, one PostgreSQL, one Redis: kill -9 and a Redis restart mid-run", () => {
  test("every acked update processed once, per-chat order kept, Telegram's limits kept at arrival", async () => {
    const posted = await postWhileFaultsHappen();
    expect(posted.acked.size).toBe(CHATS * ROUNDS + BUSY_CHATS * ROUNDS); // a live gateway always answered

    const stored = async () =>
      await pg.admin<{ seq: string; state: string; attempts: number }>(`SELECT seq, state, attempts FROM jobs WHERE kind = 'telegram.update'`, [], db.name);
    const sends = () => api.callsOf("sendMessage").filter((c) => c.status === 200);
    await waitFor(
      async () => {
        const replied = new Set(sends().map(repliedTo));
        return [...posted.acked].every((id) => replied.has(id)) && (await stored()).every((r) => r.state === "done");
      },
      60_000,
      "every acked update replied to and done",
      () => started.map((g) => g.logs().slice(-1500)).join("\n---\n"),
    );
    await Bun.sleep(500); // nothing more may come

    // Processed, and completed once: one done row per update_id, at most one "job done" line for it.
    const rows = await stored();
    const jobs = new Map(rows.map((r) => [Number(r.seq), r]));
    for (const id of posted.acked) expect(jobs.get(id)?.state).toBe("done");
    expect(rows).toHaveLength(posted.acked.size);
    // A line is written once the finish committed; a gateway killed right then may never write
    // its line (the log is buffered), so a job can have none: never two.
    expect([...completions()].filter(([, n]) => n > 1)).toEqual([]);

    // A reply sent twice only for a job the killed gateway had started: its first send arrived
    // before the kill, and the job ran again once its lease expired.
    const all = sends();
    const perUpdate = Map.groupBy(all, repliedTo);
    const repeated = [...perUpdate].filter(([, calls]) => calls.length > 1);
    for (const [id, calls] of repeated) {
      expect(calls).toHaveLength(2);
      expect(calls[0]!.at).toBeLessThanOrEqual(posted.killedAt);
      expect(jobs.get(id)!.attempts).toBeGreaterThan(1);
    }

    // Per-chat order: each chat's replies arrived in update order (a repeat sits next to its first).
    for (const [chat, ids] of posted.byChat) {
      const replies = all.filter((c) => Number(c.payload.chat_id) === chat).map(repliedTo);
      expect([chat, [...new Set(replies)]]).toEqual([chat, ids]);
      expect([chat, replies]).toEqual([chat, [...replies].sort((a, b) => a - b)]);
    }

    // Telegram's limits where Telegram counts them, at arrival, with no slack: a send holds its
    // slot from its decision until its answer is back (src/limits/send-rules.ts), and the limiter
    // (Redis TIME, or a gateway's Date.now() while falling back) and the fake Bot API stamp on the
    // same machine clock, in whole milliseconds: floors of ordered instants stay ordered, so the
    // guarantee holds exactly in these stamps too.
    expect(crowdedWindows(all.map((c) => c.at), PER_SECOND, 1000)).toEqual([]);
    for (const chat of posted.byChat.keys()) {
      expect([chat, tooClose(all.filter((c) => Number(c.payload.chat_id) === chat).map((c) => c.at), 1000)]).toEqual([chat, []]);
    }

    // The faults happened as planned: the Redis restart was seen, and the restarted gateway works.
    expect(started.filter((g) => g.logs().includes("Redis unreachable")).length).toBeGreaterThan(0);
    expect((await fetch(`${slots[1]!.url}/readyz`)).status).toBe(200);
    console.log(
      `chaos: ${posted.acked.size} updates acked, ${all.length} replies (${repeated.length} repeated after the kill) ` +
        `over ${((all.at(-1)!.at - all[0]!.at) / 1000).toFixed(1)} s; busiest second ${busiestWindow(all.map((c) => c.at), 1000)} sends`,
    );
  }, TIMEOUT);
});

