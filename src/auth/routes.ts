import { randomBytes } from "node:crypto";
import { Elysia, t } from "elysia";
import { ConfigError, type Config } from "../config";
import { HttpError } from "../http-error";
import { cappedJson, type JsonBodyLimits } from "../json-body";
import { peerAddress } from "../peer-address";
import { notificationJob } from "../telegram/notifications";
import type { Store, User, UserSighting } from "../store/types";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import { statusOf, type AuthResult } from "./auth-result";
import { resolveClientIp, trustedProxyMatcher } from "./client-ip";
import { INIT_DATA_MAX_LENGTH, replayWindowEnd, validateInitData } from "./init-data";
import { validateWidgetLogin } from "./login-widget";
import { createMiniAppRoutes } from "./mini-app";
import type { RateLimiter } from "../limits/rate-limiter";
import { bearerToken, createSessionIssuer, resolveSessionSecret, SessionError } from "./session";

type SignInMethod = "webapp" | "widget";

/** A payload that may sign in once: its key, and until when (unix ms) it counts as used. */
interface OneUse {
  hash: string;
  expiresAt: number;
}

/**
 * initData is a few hundred bytes (16 KiB at most, INIT_DATA_MAX_LENGTH); widget fields fewer.
 * Both bodies are flat objects: depth 2 leaves one level so a wrongly typed field still gets the
 * schema's message instead of the depth one.
 */
const SIGN_IN_BODY: JsonBodyLimits = { maxBytes: 32 * 1024, maxDepth: 2 };

/** The user as the auth API shows it. */
export function publicUser(u: User) {
  return {
    id: u.telegramId,
    firstName: u.firstName,
    lastName: u.lastName,
    username: u.username,
    languageCode: u.languageCode,
    isPremium: u.isPremium,
    photoUrl: u.photoUrl,
  };
}

/** "You signed in" text for the login notification (pure). */
export function loginNotificationText(method: SignInMethod, at: number, ip: string): string {
  const when = new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const via = method === "webapp" ? "the Mini App" : "the Telegram Login Widget";
  return `You signed in through ${via} at ${when} from IP ${ip}. If this was not you, tell the service's support.`;
}

export interface AuthRouteDeps {
  cfg: Pick<Config, "botToken" | "sessionSecret" | "sessionTtl" | "trustedProxies" | "initDataMaxAge" | "loginNotify">;
  store: Pick<Store, "users" | "settings" | "jobs" | "initDataReplays">;
  /** Sign-ins per client IP and per Telegram user (shared through Redis with TGWH_REDIS_URL). */
  limits: { ip: RateLimiter; user: RateLimiter };
  metrics: Pick<Metrics, "authValidations" | "authRateLimited">;
  log: Logger;
  clock: () => number;
  /** A login notification was committed: the worker looks now. */
  wakeWorker: () => void;
}

/**
 * POST /auth/telegram/webapp, POST /auth/telegram/widget, GET /auth/me and the Mini App page.
 * A sign-in: per-IP limit → signature and freshness → per-user limit → user upsert (and the
 * login notification job, in the same group commit) → session token.
 */
export async function createAuthRoutes(deps: AuthRouteDeps) {
  const { cfg, metrics, clock } = deps;
  const log = deps.log.child({ component: "auth" });
  const sessionSecret = await resolveSessionSecret(cfg.sessionSecret, deps.store.settings);
  if (sessionSecret.deletedGenerated) {
    log.warn("TGWH_SESSION_SECRET is configured: deleted the generated session key from the database; sessions it signed no longer verify");
  }
  const sessions = createSessionIssuer({ secret: sessionSecret.secret, ttlSeconds: cfg.sessionTtl, clock });
  const { users, jobs, initDataReplays: replays } = deps.store;
  const { ip: ipLimiter, user: userLimiter } = deps.limits;
  let isTrusted: (ip: string) => boolean;
  try {
    isTrusted = trustedProxyMatcher(cfg.trustedProxies);
  } catch (err) {
    throw new ConfigError("TGWH_TRUSTED_PROXIES", `${(err as Error).message}; give a comma-separated list of addresses or CIDR ranges`);
  }

  const clientIp = (req: Request) => resolveClientIp(peerAddress(req), req.headers.get("x-forwarded-for"), isTrusted);
  const freshness = () => ({ maxAgeSeconds: cfg.initDataMaxAge, now: clock() });

  async function limit(limiter: RateLimiter, scope: "ip" | "user", key: string): Promise<void> {
    const d = await limiter.take(`${scope}:${key}`);
    if (d.allowed) return;
    metrics.authRateLimited.inc({ scope });
    const who = scope === "ip" ? "this address" : "this Telegram account";
    throw new HttpError(429, `too many sign-in attempts from ${who}; retry in ${d.retryAfterSeconds} s`, { "retry-after": String(d.retryAfterSeconds) });
  }

  /**
   * The sign-in routes' body reader: a client over its per-IP budget costs no read, no parse and
   * no crypto; then the capped read (src/json-body.ts).
   */
  const signInBody = cappedJson(SIGN_IN_BODY, { before: ({ request }: { request: Request }) => limit(ipLimiter, "ip", clientIp(request)) });

  /**
   * One sign-in. `validate` checks the payload; when it names a `once` (initData's hash), that
   * payload signs in only once within its validity (see refuseReplay).
   */
  async function signIn(method: SignInMethod, request: Request, validate: (botToken: string) => AuthResult<UserSighting & { once?: OneUse }>) {
    const ip = clientIp(request);
    if (!cfg.botToken) throw new HttpError(503, "sign-in is not configured: the bot token is not set");
    const result = validate(cfg.botToken);
    if (!result.ok) {
      metrics.authValidations.inc({ method, outcome: result.code });
      log.info({ method, code: result.code, ip }, "sign-in refused");
      throw new HttpError(statusOf(result.code), result.message);
    }
    const { once, ...sighting } = result.value;
    metrics.authValidations.inc({ method, outcome: "ok" });
    await limit(userLimiter, "user", String(sighting.telegramId));
    if (once) await refuseReplay(method, once, ip);

    const now = clock();
    // Both writes are queued in the same tick, so they share one transaction (group commit).
    const upserted = users.upsert(sighting, now);
    const notified = cfg.loginNotify ? jobs.insert([loginJob(method, sighting.telegramId, now, ip)]) : null;
    let row: User;
    try {
      [row] = await Promise.all([upserted, notified]);
    } catch (err) {
      log.error({ err, method }, "storing the sign-in failed");
      throw new HttpError(503, "storage unavailable; try signing in again shortly", { "retry-after": "5" });
    }
    if (notified) deps.wakeWorker();
    const session = await sessions.issue(sighting.telegramId);
    log.info({ method, telegramId: sighting.telegramId, ip }, "signed in");
    return { ok: true as const, token: session.token, expiresAt: new Date(session.expiresAt * 1000).toISOString(), user: publicUser(row) };
  }

  /**
   * Valid initData stays valid for TGWH_INIT_DATA_MAX_AGE; without this, whoever got hold of one
   * (a log, a proxy, a shared screen) could sign in as its user again and again until then. Its
   * hash is recorded in the database (shared by every gateway) until it expires, and a second
   * use is refused. The Mini App keeps its session in sessionStorage, so its own reloads do not
   * send the same initData again. Recorded after the per-user limit, so a 429 does not use it up.
   */
  async function refuseReplay(method: SignInMethod, once: OneUse, ip: string): Promise<void> {
    let first: boolean;
    try {
      first = await replays.firstUse(once.hash, once.expiresAt, clock());
    } catch (err) {
      log.error({ err, method }, "recording the initData use failed");
      throw new HttpError(503, "storage unavailable; try signing in again shortly", { "retry-after": "5" });
    }
    if (first) return;
    metrics.authValidations.inc({ method, outcome: "replayed" });
    log.warn({ method, ip }, "sign-in refused: this initData was used before (replay)");
    throw new HttpError(401, "this initData was already used to sign in; reopen the Mini App from the bot for a fresh one");
  }

  function loginJob(method: SignInMethod, telegramId: number, now: number, ip: string) {
    // Unique per sign-in: two sign-ins in the same millisecond still notify twice.
    const dedupeKey = `login:${telegramId}:${now}:${randomBytes(6).toString("hex")}`;
    return notificationJob({ chatId: telegramId, text: loginNotificationText(method, now, ip), dedupeKey }, now);
  }

  return new Elysia({ name: "auth" })
    .post(
      "/auth/telegram/webapp",
      ({ body, request }) =>
        signIn("webapp", request, (token) => {
          const f = freshness();
          const r = validateInitData(body.initData, token, f);
          if (!r.ok) return r;
          const u = r.value.user;
          if (!u) return { ok: false, code: "malformed", message: "initData has no user field, so it signs nobody in (was it opened from a bot button?)" };
          return {
            ok: true,
            value: {
              telegramId: u.id,
              firstName: u.first_name,
              lastName: u.last_name ?? null,
              username: u.username ?? null,
              languageCode: u.language_code,
              isPremium: u.is_premium === true,
              photoUrl: u.photo_url,
              once: { hash: r.value.fields.hash!.toLowerCase(), expiresAt: replayWindowEnd(r.value.authDate, f.maxAgeSeconds, f.now) },
            },
          };
        }),
      {
        parse: signInBody,
        body: t.Object({ initData: t.String({ maxLength: INIT_DATA_MAX_LENGTH, description: "Telegram.WebApp.initData, unchanged" }) }),
        detail: {
          tags: ["auth"],
          summary: "Sign in with Mini App initData",
          description: "200 {token, expiresAt, user}; 400 malformed initData, no hash or nested JSON; 401 bad hash, expired auth_date or an initData already used (each signs in once); 413 body over 32 KiB; 415 not application/json; 429 rate limited (Retry-After).",
        },
      },
    )
    .post(
      "/auth/telegram/widget",
      ({ body, request }) =>
        signIn("widget", request, (token) => {
          const r = validateWidgetLogin(body, token, freshness());
          if (!r.ok) return r;
          const u = r.value.user;
          return { ok: true, value: { telegramId: u.id, firstName: u.first_name, lastName: u.last_name ?? null, username: u.username ?? null, photoUrl: u.photo_url } };
        }),
      {
        parse: signInBody,
        body: t.Record(t.String(), t.Union([t.String({ maxLength: 1024 }), t.Number(), t.Boolean()]), {
          description: "Every field the Login Widget gave the page (id, first_name, …, auth_date, hash), unchanged",
        }),
        detail: {
          tags: ["auth"],
          summary: "Sign in with the Telegram Login Widget",
          description: "200 {token, expiresAt, user}; 400 malformed, no hash, an id that is not a plain integer within 2^53, or nested JSON; 401 bad hash or expired auth_date; 413 body over 32 KiB; 415 not application/json; 429 rate limited (Retry-After).",
        },
      },
    )
    .get(
      "/auth/me",
      async ({ request }) => {
        try {
          const s = await sessions.verify(bearerToken(request.headers.get("authorization")));
          const u = await users.byId(s.telegramId);
          if (!u) throw new SessionError("the session's user is not known here; sign in again");
          return { ok: true as const, user: publicUser(u), expiresAt: new Date(s.expiresAt * 1000).toISOString() };
        } catch (err) {
          if (!(err instanceof SessionError)) throw err;
          metrics.authValidations.inc({ method: "session", outcome: "invalid" });
          throw new HttpError(401, err.message, { "www-authenticate": 'Bearer realm="tgwh"' });
        }
      },
      { detail: { tags: ["auth"], summary: "The signed-in user (Authorization: Bearer <token>)", description: "200 {user, expiresAt}; 401 missing, invalid or expired token." } },
    )
    .use(createMiniAppRoutes());
}
