/**
 * Delivers updates to a webhook the way Telegram does (see "Telegram's side" in docs/architecture.md):
 * - at most `maxConnections` requests in flight (setWebhook's max_connections, default 40);
 * - per chat in order: a chat's next update goes only after the previous one got a 2xx;
 * - a non-2xx, a connection error or no answer within `requestTimeoutMs` (60 s) is retried after a
 *   delay that starts at 1 s and doubles (capped), or after the answer's Retry-After;
 * - update_id grows by one per update.
 * It records, per update, when it was first sent, how often, and when it got its 2xx: the soak's
 * "acked" set, which tgwh must have processed by the end.
 */
import { createTraffic, DEFAULT_TRAFFIC, seededRandom, type SimUpdate, type TrafficOptions } from "./traffic";

export interface SimOptions {
  url: string;
  secret: string;
  ratePerSecond: number;
  maxConnections?: number;
  firstUpdateId?: number;
  requestTimeoutMs?: number;
  retryStartMs?: number;
  retryMaxMs?: number;
  traffic?: TrafficOptions;
  seed?: number;
  /** Called once per update when it got its 2xx. */
  onAck?: (u: SimUpdate, at: number) => void;
}

export interface UpdateRecord {
  update: SimUpdate;
  createdAt: number;
  firstSentAt: number | null;
  attempts: number;
  ackAt: number | null;
  lastStatus: number | string | null;
}

export interface SimStats {
  generated: number;
  acked: number;
  requests: number;
  failures: Record<string, number>;
  inFlight: number;
  /** Updates generated but not yet acked (Telegram's pending_update_count). */
  backlog: number;
  maxBacklog: number;
}

interface ChatQueue {
  items: SimUpdate[];
  /** Sending its head now, or waiting for the retry delay. */
  busy: boolean;
  delayMs: number;
}

export function createTelegramSim(opts: SimOptions) {
  const maxConnections = opts.maxConnections ?? 40;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
  const retryStartMs = opts.retryStartMs ?? 1000;
  const retryMaxMs = opts.retryMaxMs ?? 60_000;
  const nextUpdate = createTraffic(opts.traffic ?? DEFAULT_TRAFFIC, seededRandom(opts.seed ?? 42));
  const records = new Map<number, UpdateRecord>();
  const chats = new Map<number, ChatQueue>();
  const ready: number[] = []; // chat ids whose head may be sent now (FIFO)
  let readyHead = 0;
  let nextId = opts.firstUpdateId ?? 1;
  const stats: SimStats = { generated: 0, acked: 0, requests: 0, failures: {}, inFlight: 0, backlog: 0, maxBacklog: 0 };
  let genTimer: ReturnType<typeof setInterval> | null = null;
  let genStarted = 0;
  let genCount = 0;
  let rate = opts.ratePerSecond;
  const retryTimers = new Set<ReturnType<typeof setTimeout>>();
  const endpoint = `${opts.url.replace(/\/$/, "")}/telegram/webhook`;

  function enqueue(u: SimUpdate) {
    records.set(u.updateId, { update: u, createdAt: Date.now(), firstSentAt: null, attempts: 0, ackAt: null, lastStatus: null });
    stats.generated++;
    stats.backlog++;
    stats.maxBacklog = Math.max(stats.maxBacklog, stats.backlog);
    let q = chats.get(u.chatId);
    if (!q) chats.set(u.chatId, (q = { items: [], busy: false, delayMs: retryStartMs }));
    q.items.push(u);
    if (!q.busy && q.items.length === 1) ready.push(u.chatId);
  }

  function pump() {
    while (stats.inFlight < maxConnections && readyHead < ready.length) {
      const chatId = ready[readyHead++]!;
      const q = chats.get(chatId);
      if (!q || q.busy || q.items.length === 0) continue;
      q.busy = true;
      void deliver(chatId, q, q.items[0]!);
    }
    if (readyHead > 10_000) {
      ready.splice(0, readyHead);
      readyHead = 0;
    }
  }

  async function deliver(chatId: number, q: ChatQueue, u: SimUpdate) {
    const rec = records.get(u.updateId)!;
    rec.attempts++;
    rec.firstSentAt ??= Date.now();
    stats.inFlight++;
    stats.requests++;
    let ok = false;
    let retryAfterMs: number | null = null;
    try {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": opts.secret },
        body: JSON.stringify(u.body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      await res.arrayBuffer().catch(() => {});
      rec.lastStatus = res.status;
      ok = res.status >= 200 && res.status < 300;
      const ra = Number(res.headers.get("retry-after"));
      if (!ok && Number.isFinite(ra) && ra > 0) retryAfterMs = ra * 1000;
      if (!ok) stats.failures[String(res.status)] = (stats.failures[String(res.status)] ?? 0) + 1;
    } catch (err) {
      const name = (err as Error)?.name === "TimeoutError" ? "timeout" : "connection";
      rec.lastStatus = name;
      stats.failures[name] = (stats.failures[name] ?? 0) + 1;
    }
    stats.inFlight--;
    if (ok) {
      rec.ackAt = Date.now();
      stats.acked++;
      stats.backlog--;
      opts.onAck?.(u, rec.ackAt);
      q.items.shift();
      q.delayMs = retryStartMs;
      q.busy = false;
      if (q.items.length > 0) ready.push(chatId);
      else chats.delete(chatId);
    } else {
      const delay = retryAfterMs ?? q.delayMs;
      q.delayMs = Math.min(retryMaxMs, q.delayMs * 2);
      const t = setTimeout(() => {
        retryTimers.delete(t);
        q.busy = false;
        ready.push(chatId);
        pump();
      }, delay);
      retryTimers.add(t);
    }
    pump();
  }

  function generate() {
    const due = Math.floor(((Date.now() - genStarted) / 1000) * rate) - genCount;
    for (let i = 0; i < due; i++) {
      enqueue(nextUpdate(nextId++));
      genCount++;
    }
    pump();
  }

  return {
    records,
    stats,
    /** Starts producing updates at the steady rate. */
    start() {
      genStarted = Date.now();
      genCount = 0;
      genTimer = setInterval(generate, 10);
    },
    setRate(perSecond: number) {
      generate();
      rate = perSecond;
      genStarted = Date.now();
      genCount = 0;
    },
    /** Stops producing new updates; delivery of the backlog continues. */
    stopGenerating() {
      if (genTimer) clearInterval(genTimer);
      genTimer = null;
    },
    /** Resolves once every generated update got its 2xx (or after timeoutMs, returning false). */
    async drained(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (stats.backlog > 0) {
        if (Date.now() > deadline) return false;
        await Bun.sleep(50);
      }
      return true;
    },
    /** Stops everything (pending retries are dropped: use after drained()). */
    stop() {
      if (genTimer) clearInterval(genTimer);
      for (const t of retryTimers) clearTimeout(t);
      retryTimers.clear();
    },
  };
}

export type TelegramSim = ReturnType<typeof createTelegramSim>;
