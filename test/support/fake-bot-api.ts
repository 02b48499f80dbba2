/**
 * A fake Telegram Bot API on 127.0.0.1 for tests: records every call and answers with scripted
 * faults on demand (429 with retry_after, 500, 403, slow answers, dropped connections).
 */
export interface RecordedCall {
  method: string;
  token: string;
  payload: Record<string, unknown>;
  at: number;
  /** HTTP status the call was answered with (unset while it is still pending). */
  status?: number;
}

export type Fault =
  | { kind: "error"; code: number; description: string; retryAfter?: number; afterMs?: number }
  | { kind: "delay"; ms: number }
  | { kind: "hang" };

export interface FakeBotApi {
  url: string;
  calls: RecordedCall[];
  /** Calls of one method (e.g. sendMessage), in arrival order. */
  callsOf(method: string): RecordedCall[];
  /** The next `times` calls of `method` get `fault` instead of success. */
  failNext(method: string, fault: Fault, times?: number): void;
  /** Every call of `method` gets `fault` until cleared. */
  failAlways(method: string, fault: Fault | null): void;
  /** What getWebhookInfo answers; setWebhook/deleteWebhook update url, max_connections, allowed_updates. Mutable. */
  webhookInfo: Record<string, unknown>;
  /** Shifts the Date header of every answer by this much (clock-skew checks); 0 = the real time. */
  setClockOffset(ms: number): void;
  stop(): void;
}

export const FAKE_BOT_INFO = {
  id: 123456789,
  is_bot: true,
  first_name: "Test Bot",
  username: "tgwh_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

export interface FakeBotApiOptions {
  /** Consulted for every call without a scripted fault: return a fault to inject (bench/sim uses it for limits and random faults). */
  decide?: (call: RecordedCall) => Fault | null;
}

export function startFakeBotApi(opts: FakeBotApiOptions = {}): FakeBotApi {
  const calls: RecordedCall[] = [];
  const once = new Map<string, { fault: Fault; left: number }[]>();
  const always = new Map<string, Fault>();
  let nextMessageId = 1000;
  const webhookInfo: Record<string, unknown> = { url: "", has_custom_certificate: false, pending_update_count: 0, max_connections: 40 };
  let clockOffsetMs = 0;

  const pickFault = (method: string): Fault | null => {
    const queue = once.get(method);
    if (queue && queue.length > 0) {
      const head = queue[0]!;
      head.left--;
      if (head.left <= 0) queue.shift();
      return head.fault;
    }
    return always.get(method) ?? null;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 120,
    async fetch(req) {
      const path = new URL(req.url).pathname; // /bot<token>/<method>
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
      if (!m) return Response.json({ ok: false, error_code: 404, description: "Not Found" }, { status: 404 });
      const [, token, method] = m as unknown as [string, string, string];
      let payload: Record<string, unknown> = {};
      if (req.method === "POST") {
        const text = await req.text();
        if (text) payload = JSON.parse(text);
      }
      const call: RecordedCall = { method, token, payload, at: Date.now() };
      calls.push(call);
      const fault = pickFault(method) ?? opts.decide?.(call) ?? null;
      if (fault?.kind === "hang") return new Promise<Response>(() => {});
      if (fault?.kind === "delay") await Bun.sleep(fault.ms);
      if (fault?.kind === "error") {
        if (fault.afterMs) await Bun.sleep(fault.afterMs);
        call.status = fault.code;
        return Response.json(
          {
            ok: false,
            error_code: fault.code,
            description: fault.description,
            ...(fault.retryAfter !== undefined ? { parameters: { retry_after: fault.retryAfter } } : {}),
          },
          { status: fault.code },
        );
      }
      call.status = 200;
      const ok = (result: unknown) => Response.json({ ok: true, result });
      const withDate = (res: Response) => {
        if (clockOffsetMs !== 0) res.headers.set("date", new Date(Date.now() + clockOffsetMs).toUTCString());
        return res;
      };
      switch (method) {
        case "getMe":
          return withDate(ok(FAKE_BOT_INFO));
        case "sendMessage":
          return ok({ message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: payload.chat_id, type: "private" }, text: payload.text });
        case "getWebhookInfo":
          return withDate(ok(webhookInfo));
        case "setWebhook":
          Object.assign(webhookInfo, { url: payload.url, max_connections: payload.max_connections ?? 40, allowed_updates: payload.allowed_updates });
          return ok(true);
        case "deleteWebhook":
          webhookInfo.url = "";
          return ok(true);
        default:
          return ok(true);
      }
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    failNext(method, fault, times = 1) {
      const q = once.get(method) ?? [];
      q.push({ fault, left: times });
      once.set(method, q);
    },
    failAlways(method, fault) {
      if (fault) always.set(method, fault);
      else always.delete(method);
    },
    webhookInfo,
    setClockOffset: (ms) => {
      clockOffsetMs = ms;
    },
    stop: () => server.stop(true),
  };
}
