/**
 * The nginx side of docs/scale-out.md: deploy/nginx/gateways.env.example rendered by
 * deploy/render.sh gives an upstream with both gateways, and the whole site passes `nginx -t`
 * with it (a throwaway certificate where certbot's would be). render.sh refuses what cannot work.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../support/tgwh";
import { missingPrograms, REPO, run, testNginxConf } from "../support/tls-stack";

const RENDER = join(REPO, "deploy/render.sh");
const missing = missingPrograms(["nginx", "openssl"]);
if (missing.length > 0) console.warn(`SKIPPED test/deploy/nginx-gateways.test.ts: missing ${missing.join(", ")} (apt-get install -y nginx openssl)`);

/** KEY=VALUE lines of the shipped example, comments skipped. */
function exampleEnv(): Record<string, string> {
  const text = readFileSync(join(REPO, "deploy/nginx/gateways.env.example"), "utf8");
  return Object.fromEntries(text.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe.skipIf(missing.length > 0)("nginx upstream for several gateways", () => {
  test("the shipped example renders an upstream with both gateways, and the site passes nginx -t", async () => {
    const dir = tempDir("tgwh-nginx-gw-");
    dirs.push(dir);
    const example = exampleEnv();
    expect(example.GATEWAYS!.split(",")).toHaveLength(2);
    const certDir = join(dir, "cert");
    mkdirSync(certDir);
    const cert = await run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${example.SERVER_NAME}`,
      "-keyout", join(certDir, "privkey.pem"), "-out", join(certDir, "fullchain.pem")]);
    expect(cert.code).toBe(0);
    writeFileSync(join(certDir, "chain.pem"), readFileSync(join(certDir, "fullchain.pem")));
    const out = join(dir, "nginx-files");
    const rendered = await run([RENDER, out], { ...example, CERT_DIR: certDir, SNIPPETS_DIR: join(out, "snippets"), ACME_WEBROOT: join(dir, "acme"), LISTEN_ADDRESS: "127.0.0.1", HTTP_PORT: "8080", HTTPS_PORT: "8443" });
    expect(rendered.code).toBe(0);

    const upstream = readFileSync(join(out, "snippets/upstream.conf"), "utf8");
    for (const g of example.GATEWAYS!.split(",")) expect(upstream).toContain(`server ${g} max_fails=1 fail_timeout=10s;`);
    // A refused or timed-out webhook goes to the other gateway: safe for a POST because tgwh dedupes on update_id.
    const webhook = readFileSync(join(out, "sites/tgwh.conf"), "utf8").split("location = /telegram/webhook {")[1]!.split("\n    }")[0]!;
    expect(webhook).toContain("proxy_next_upstream error timeout non_idempotent;");

    const noTestInclude = join(dir, "empty.conf");
    writeFileSync(noTestInclude, "");
    await testNginxConf(join(dir, "prefix"), join(out, "sites"), noTestInclude); // throws with nginx's message on failure
  });

  test("render.sh refuses one gateway, a malformed address, and a canary beside several gateways", async () => {
    const render = (env: Record<string, string>) => run([RENDER, "--upstream-only", "/dev/null"], { SERVER_NAME: "bot.example.com", ...env });
    const one = await render({ GATEWAYS: "10.0.0.11:8080" });
    expect([one.code, one.out.trim()]).toEqual([2, "render.sh: GATEWAYS needs at least two HOST:PORT (one gateway: set UPSTREAM)"]);
    const bad = await render({ GATEWAYS: "10.0.0.11:8080,10.0.0.12" });
    expect([bad.code, bad.out.trim()]).toEqual([2, "render.sh: GATEWAYS: '10.0.0.12' is not HOST:PORT"]);
    const canary = await render({ GATEWAYS: "10.0.0.11:8080,10.0.0.12:8080", CANARY_UPSTREAM: "127.0.0.1:8081" });
    expect(canary.code).toBe(2);
    expect(canary.out).toContain("GATEWAYS and CANARY_UPSTREAM do not go together");
  });
});
