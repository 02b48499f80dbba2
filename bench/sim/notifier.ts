/**
 * The soak's "actions that queue notifications": an operator-role client of
 * POST /admin/notifications (there is no bot command that queues one). Each notification carries
 * a marker in its text, `[soak-notify ID]`, so the fake Bot API's deliveries can be matched to it,
 * and a dedupeKey, so retrying a POST that died with the process never queues it twice.
 */
import { runTgwh } from "../../test/support/tgwh";

export interface Notifier {
  available: boolean;
  reason: string;
  /** marker → when tgwh accepted it (202): the start of its 30 s SLA. */
  accepted: Map<string, number>;
  queue(chatId: number): void;
  drained(timeoutMs: number): Promise<boolean>;
  stop(): void;
}

/** Pulls the bearer token out of `tgwh token create` output (JSON or text). */
export function tokenFromOutput(out: string): string | null {
  try {
    const j = JSON.parse(out) as { token?: string };
    if (typeof j.token === "string") return j.token;
  } catch {
    // text output
  }
  const words = out.split(/\s+/).filter((w) => /^[A-Za-z0-9_.~+/=-]{32,}$/.test(w));
  return words.at(-1) ?? null;
}

export async function startNotifier(opts: { url: string; cliEnv: Record<string, string>; log: (l: string) => void; maxInFlight?: number }): Promise<Notifier> {
  const accepted = new Map<string, number>();
  const unavailable = (reason: string): Notifier => ({ available: false, reason, accepted, queue() {}, drained: async () => true, stop() {} });
  const created = await runTgwh(["token", "create", "--name", `soak-${process.pid}`, "--role", "operator"], opts.cliEnv);
  if (created.code !== 0) return unavailable(`\`tgwh token create\` failed (exit ${created.code}): ${(created.stderr || created.stdout).trim().slice(0, 200)}`);
  const token = tokenFromOutput(created.stdout);
  if (!token) return unavailable("could not find the token in `tgwh token create` output");
  const endpoint = `${opts.url}/admin/notifications`;
  const probe = await fetch(endpoint, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
  if (probe.status === 404 || probe.status === 401 || probe.status === 403) return unavailable(`POST /admin/notifications answered ${probe.status}`);

  const maxInFlight = opts.maxInFlight ?? 16;
  const waiting: { marker: string; chatId: number }[] = [];
  let inFlight = 0;
  let counter = 0;
  let stopped = false;
  let failures = 0;

  async function post(marker: string, chatId: number) {
    for (let attempt = 0; !stopped && attempt < 300; attempt++) {
      try {
        const res = await fetch(endpoint, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ chatId, text: `Your order shipped [soak-notify ${marker}]`, dedupeKey: `soak-${marker}` }),
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        if (res.status === 202 || res.status === 200) {
          if (!accepted.has(marker)) accepted.set(marker, Date.now());
          return;
        }
        if (res.status < 500) {
          opts.log(`[notifier] ${marker} refused with ${res.status}; not retrying`);
          return;
        }
      } catch {
        // tgwh is restarting: try again
      }
      failures++;
      await Bun.sleep(500);
    }
  }

  function pump() {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const { marker, chatId } = waiting.shift()!;
      inFlight++;
      void post(marker, chatId).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    available: true,
    reason: "",
    accepted,
    queue(chatId) {
      waiting.push({ marker: `n${++counter}`, chatId });
      pump();
    },
    async drained(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 || waiting.length > 0) {
        if (Date.now() > deadline) return false;
        await Bun.sleep(50);
      }
      return true;
    },
    stop() {
      stopped = true;
      void failures;
    },
  };
}
