/** The ingest contenders, each started as its own process on 127.0.0.1. */
import { resolve } from "node:path";
import { startFakeBotApi, type FakeBotApi } from "../../test/support/fake-bot-api";
import { BINARY, startTgwh, TEST_SECRET, type TgwhProcess } from "../../test/support/tgwh";

/** The tgwh build under test: dist/tgwh, or BENCH_TGWH_BINARY (e.g. a build of an older commit). */
export const tgwhBinary = (): string => process.env.BENCH_TGWH_BINARY || BINARY;

export const PEER_SECRET = "bench_secret_0123456789";

export interface Contender {
  name: string;
  /** Where the load generator POSTs. */
  url: string;
  secret: string;
  pid: number;
  stop(): Promise<void>;
  /** tgwh only: the process handle (logs, db path). */
  tgwh?: TgwhProcess;
}

export type ContenderKind = "bare" | "grammy" | "tgwh-full" | "tgwh-normal" | "floor" | "bunqueue" | "tgwh-full-base" | `tgwh-v:${string}`;

/** "K=V<sep>K=V" as an env object (values may contain "="). */
function parseSettings(list: string, separator: string): Record<string, string> {
  return Object.fromEntries(list.split(separator).filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

/**
 * Experiment rows in the same interleaved run: BENCH_TGWH_VARIANTS="name:K=V;K=V|name2:K=V" adds
 * contender `tgwh-v:name`, tgwh FULL on the build under test with those extra settings.
 */
const variants = new Map(
  (process.env.BENCH_TGWH_VARIANTS ?? "")
    .split("|")
    .filter(Boolean)
    .map((spec) => {
      const [name, settings = ""] = spec.split(/:(.*)/s) as [string, string?];
      return [name, parseSettings(settings, ";")] as const;
    }),
);
export const CONTENDERS: { kind: ContenderKind; label: string }[] = [
  { kind: "bare", label: "1 bare Bun.serve" },
  { kind: "grammy", label: "2 grammY webhookCallback" },
  { kind: "tgwh-full", label: "3 tgwh FULL" },
  { kind: "tgwh-normal", label: "4 tgwh NORMAL" },
  { kind: "floor", label: "5 durable floor" },
  { kind: "bunqueue", label: "6 grammY + bunqueue" },
  // A before/after row in the same interleaved run: only when BENCH_TGWH_BASE_BINARY names the other build.
  ...(process.env.BENCH_TGWH_BASE_BINARY ? [{ kind: "tgwh-full-base" as const, label: "3b tgwh FULL, base build" }] : []),
  ...[...variants.keys()].map((name) => ({ kind: `tgwh-v:${name}` as const, label: `3v tgwh FULL ${name}` })),
];

/** Starts a bench server script (bench/servers/ or a path) that prints {"listen": url} once listening. */
export async function startScript(file: string, name: string, secret: string, env: Record<string, string> = {}): Promise<Contender> {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../servers", file)], {
    env: { ...process.env, ...env, BENCH_SECRET: secret, PORT: "0" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${file} exited before listening`);
    buf += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = (JSON.parse(buf.split("\n")[0]!) as { listen: string }).listen;
  return {
    name,
    url: `${url}/telegram/webhook`,
    secret,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** Shared fake Bot API for the tgwh runs (getMe only: the bench's updates carry no command). */
let api: FakeBotApi | null = null;
export function fakeApi(): FakeBotApi {
  api ??= startFakeBotApi();
  return api;
}
export function stopFakeApi(): void {
  api?.stop();
  api = null;
}

/**
 * tgwh as shipped: info logging, default concurrency and lease; only the send cap is off.
 * BENCH_TGWH_ENV ("K=V,K=V") adds settings, for an experiment's build.
 */
export function tgwhEnv(sync: "FULL" | "NORMAL", extra: Record<string, string> = {}): Record<string, string> {
  return {
    TGWH_TELEGRAM_API: fakeApi().url,
    TGWH_LOG_LEVEL: "info",
    TGWH_SEND_PER_SECOND: "0",
    TGWH_LEASE_SECONDS: "30",
    TGWH_SHUTDOWN_SECONDS: "10",
    TGWH_SQLITE_SYNCHRONOUS: sync,
    ...parseSettings(process.env.BENCH_TGWH_ENV ?? "", ","),
    ...extra,
  };
}

export async function startContender(kind: ContenderKind): Promise<Contender> {
  switch (kind) {
    case "bare":
      return startScript("bare.ts", kind, PEER_SECRET);
    case "grammy":
      return startScript("grammy-peer.ts", kind, PEER_SECRET);
    case "floor":
      return startScript("durable-floor.ts", kind, PEER_SECRET);
    case "bunqueue":
      return startScript("bunqueue-peer.ts", kind, PEER_SECRET);
    default: {
      const binary = kind === "tgwh-full-base" ? process.env.BENCH_TGWH_BASE_BINARY! : tgwhBinary();
      const extra = kind.startsWith("tgwh-v:") ? variants.get(kind.slice("tgwh-v:".length)) : undefined;
      const t = await startTgwh({ binary, env: tgwhEnv(kind === "tgwh-normal" ? "NORMAL" : "FULL", extra) });
      return {
        name: kind,
        url: `${t.url}/telegram/webhook`,
        secret: TEST_SECRET,
        pid: t.pid,
        tgwh: t,
        async stop() {
          await t.stop();
        },
      };
    }
  }
}
