/**
 * What the send limiter's guarantee costs in throughput: `bun bench/send-limit.ts`.
 *
 * The real limiter (src/limits/send-limiter.ts) behind the real grammY transformer
 * (src/telegram/api.ts), with 16 jobs sending to distinct chats as fast as the limits allow, and a
 * Bot API answering after a fixed round trip. A send holds its place until its answer, so a cap of
 * N per second gives at most N / (1 s + RTT). For comparison, counting each send at its decision
 * only, with the 1100 ms window that used to stand in for the jitter (it did not hold at arrival:
 * docs/soak.md). Prints sends/s (the least-squares slope of sends over time, so the bursts at
 * the ends of a row hardly count) and the share of the cap. Knobs: SECONDS (15), CAP (30).
 */
import { createLogger } from "../src/log";
import { createMetrics } from "../src/metrics";
import { RescheduleError } from "../src/queue/errors";
import { createLocalSendLimiter, type SendLimiter } from "../src/limits/send-limiter";
import { sendRules } from "../src/limits/send-rules";
import { createOutboundTransformer } from "../src/telegram/api";
import { table } from "./lib/stats";

const seconds = Number(process.env.SECONDS ?? 15);
const cap = Number(process.env.CAP ?? 30);
const JOBS = 16;

/** The limiter as it was: a send counted at its decision, in a 1100 ms window. */
function countedAtDecision(): SendLimiter {
  const l = createLocalSendLimiter({ rules: { ...sendRules(cap), globalWindowMs: 1100 }, clock: Date.now });
  return {
    async acquire(chatId) {
      const d = await l.acquire(chatId);
      if (d.ok) d.done();
      return d;
    },
    hold: (chatId, ms) => l.hold(chatId, ms),
  };
}

async function run(limiter: SendLimiter, rttMs: number): Promise<number> {
  const t = createOutboundTransformer({ limiter, metrics: createMetrics({ version: "bench", commit: "bench" }), log: createLogger({ level: "silent", secrets: [] }) });
  const prev = (async () => {
    await Bun.sleep(rttMs);
    return { ok: true, result: true };
  }) as never;
  let chat = 0;
  const answered: number[] = [];
  const warmUntil = Date.now() + 1500; // past the first window's burst
  const until = warmUntil + seconds * 1000;
  await Promise.all(
    Array.from({ length: JOBS }, async () => {
      while (Date.now() < until) {
        try {
          await t(prev, "sendMessage" as never, { chat_id: ++chat, text: "x" } as never, undefined);
          if (Date.now() >= warmUntil) answered.push(Date.now());
        } catch (err) {
          if (!(err instanceof RescheduleError)) throw err;
          await Bun.sleep(Math.min(err.delayMs, 200)); // the job deferred: the worker takes the next
        }
      }
    }),
  );
  return slopePerSecond(answered);
}

/** Sends per second: the least-squares slope of the cumulative count over time. */
function slopePerSecond(times: number[]): number {
  const n = times.length;
  const mt = times.reduce((a, b) => a + b, 0) / n;
  const mi = (n - 1) / 2;
  let num = 0;
  let den = 0;
  times.forEach((t, i) => {
    num += (t - mt) * (i - mi);
    den += (t - mt) ** 2;
  });
  return (1000 * num) / den;
}

const rows: (string | number)[][] = [];
for (const rtt of [1, 5, 50, 200]) {
  const held = await run(createLocalSendLimiter({ rules: sendRules(cap), clock: Date.now }), rtt);
  const before = await run(countedAtDecision(), rtt);
  rows.push([`${rtt} ms`, held.toFixed(1), `${((100 * held) / cap).toFixed(0)} %`, (cap / (1 + rtt / 1000)).toFixed(1), before.toFixed(1), `${((100 * before) / cap).toFixed(0)} %`]);
}
console.log(`send limiter throughput, cap ${cap}/s, ${JOBS} jobs, ${seconds} s per row\n`);
console.log(table(["Bot API round trip", "held until answer: sends/s", "of cap", "N / (1 s + RTT)", "counted at decision, 1100 ms: sends/s", "of cap"], rows));
