import { isIP } from "node:net";

/**
 * The client's address behind reverse proxies. X-Forwarded-For is believed only from trusted
 * proxies (TGWH_TRUSTED_PROXIES: addresses or CIDR ranges): walking it from the right, the first
 * address that is not a trusted proxy is the client. Anything a client writes to the left of
 * that cannot move its rate-limit key. Pure.
 */

type Matcher = (ip: string) => boolean;

/** Normalises ::ffff:1.2.3.4 to 1.2.3.4 and strips brackets and zone ids. */
export function normaliseIp(raw: string): string {
  let ip = raw.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  return ip.toLowerCase();
}

function v4ToBigInt(ip: string): bigint {
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBigInt(ip: string): bigint {
  let s = ip;
  // A trailing dotted quad (::ffff:1.2.3.4 style) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const n = v4ToBigInt(quad[1]!);
    s = s.slice(0, -quad[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || "0", 16)), 0n);
}

/** Builds a matcher for one entry: an address or a CIDR range. Throws on nonsense. */
export function proxyMatcher(entry: string): Matcher {
  const [addrRaw, bitsRaw] = entry.trim().split("/");
  const addr = normaliseIp(addrRaw ?? "");
  const family = isIP(addr);
  if (family === 0) throw new Error(`'${entry}' is not an IP address or CIDR range`);
  const width = family === 4 ? 32 : 128;
  const bits = bitsRaw === undefined ? width : Number(bitsRaw);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`'${entry}' has a bad prefix length`);
  const toInt = family === 4 ? v4ToBigInt : v6ToBigInt;
  const shift = BigInt(width - bits);
  const base = toInt(addr) >> shift;
  return (ip) => {
    const n = normaliseIp(ip);
    if (isIP(n) !== family) return false;
    return toInt(n) >> shift === base;
  };
}

export function trustedProxyMatcher(entries: readonly string[]): Matcher {
  const matchers = entries.map(proxyMatcher);
  return (ip) => matchers.some((m) => m(ip));
}

/** The client address for `peer` (the socket's remote address) and its X-Forwarded-For header. */
export function resolveClientIp(peer: string | null, forwardedFor: string | null, isTrusted: Matcher): string {
  const direct = peer ? normaliseIp(peer) : "unknown";
  if (!peer || !forwardedFor || !isTrusted(direct)) return direct;
  const hops = forwardedFor
    .split(",")
    .map((h) => normaliseIp(h))
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return direct; // garbage in the chain: do not guess, key by the proxy
    if (!isTrusted(hop)) return hop;
  }
  return hops[0] ?? direct;
}
