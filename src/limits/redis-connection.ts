import { RedisClient } from "bun";
import { createHash } from "node:crypto";

/**
 * The Redis connection the shared limits use: Bun's built-in client (README, "Shared limits":
 * why this one), wrapped so that every call either answers within a timeout or fails. A
 * failure never waits for Redis: the caller decides locally instead (failover.ts).
 *
 * - No offline queue: while the connection is down a command fails at once instead of
 *   queueing behind a reconnect (a send would otherwise stall for as long as Redis is away).
 * - Every command races a timeout: Bun's client has none of its own, and a hung server (or a
 *   half-open connection) would otherwise hold a send forever.
 * - The client reconnects by itself (autoReconnect, with its own backoff); connect() is called
 *   again only if it ever gives up. connect() to a refused port never settles in Bun 1.4, so it
 *   is never awaited.
 * - Scripts run by EVALSHA; after a Redis restart (script cache empty) NOSCRIPT makes one EVAL
 *   with the source, which caches it again.
 */
export interface LuaScript {
  name: string;
  source: string;
  sha: string;
}

/**
 * Lua prelude of every limits script: clock(arg) is the caller's time when given (tests pass
 * their fake clock's), else Redis TIME in ms: one clock for all gateways.
 */
export const LUA_CLOCK = `
local function clock(arg)
  local n = tonumber(arg)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

export const luaScript = (name: string, source: string): LuaScript => ({ name, source, sha: createHash("sha1").update(source).digest("hex") });

export interface RedisScripts {
  /** Runs a script atomically; rejects (RedisUnavailableError) on a timeout or any failure. */
  run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown>;
  ping(): Promise<void>;
  close(): void;
}

/** Redis did not answer in time or the command failed. The message never carries the URL. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

export interface RedisConnectionOptions {
  url: string;
  /** Longest a command may take before the caller decides locally. */
  timeoutMs?: number;
}

/** A decision on a healthy Redis takes well under a millisecond on a LAN; 500 ms means trouble. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

export function createRedisConnection(opts: RedisConnectionOptions): RedisScripts {
  const timeoutMs = opts.timeoutMs ?? REDIS_COMMAND_TIMEOUT_MS;
  const client = new RedisClient(opts.url, {
    enableOfflineQueue: false,
    autoReconnect: true,
    // Bun gives up after maxRetries reconnects (default 20); an outage may last longer.
    maxRetries: 1_000_000,
    connectionTimeout: 2000,
    enableAutoPipelining: true,
  });
  /** Our own connect() in flight (the first one, or one after the client gave up reconnecting). */
  let connecting: Promise<void> | null = null;
  let closed = false;

  const ensureConnecting = () => {
    if (closed || connecting || client.connected) return;
    const done = () => {
      connecting = null;
    };
    connecting = client.connect().then(done, done);
  };
  ensureConnecting();

  async function command(name: string, args: string[]): Promise<unknown> {
    if (closed) throw new RedisUnavailableError("the Redis connection is closed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer ${name} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      // Right after start the first connect is still in flight: wait for it (within the timeout)
      // rather than fail the first heartbeat. A reconnect of the client's own is not waited for.
      if (connecting && !client.connected) await Promise.race([connecting, timeout]);
      return await Promise.race([client.send(name, args), timeout]);
    } catch (err) {
      if (err instanceof RedisUnavailableError) throw err;
      const message = (err as Error)?.message ?? String(err);
      if (message.startsWith("NOSCRIPT")) throw new NoScript();
      throw new RedisUnavailableError(`Redis ${name} failed: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async run(script, keys, args) {
      ensureConnecting();
      const rest = [String(keys.length), ...keys, ...args.map(String)];
      try {
        return await command("EVALSHA", [script.sha, ...rest]);
      } catch (err) {
        if (!(err instanceof NoScript)) throw err;
        return await command("EVAL", [script.source, ...rest]);
      }
    },
    async ping() {
      ensureConnecting();
      await command("PING", []);
    },
    close() {
      closed = true;
      client.close();
    },
  };
}

class NoScript extends Error {}
