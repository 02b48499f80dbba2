import { describe, expect, test } from "bun:test";
import { jsonDepthExceeds, readBodyText, readJsonBody, uncappedBodyRoutes, cappedJson } from "../../src/json-body";
import { HttpError } from "../../src/http-error";
import { unsafePathReason, unsafeSegmentReason } from "../../src/path-guard";

describe("jsonDepthExceeds", () => {
  test("counts nesting of arrays and objects, not brackets inside strings or escapes", () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"s":"${"[".repeat(100)}"}`, 1)).toBe(false);
    expect(jsonDepthExceeds(`{"s":"\\"${"{".repeat(100)}"}`, 1)).toBe(false); // an escaped quote does not end the string
    expect(jsonDepthExceeds(`{"s":"\\\\"${",[".repeat(5)}`, 3)).toBe(true); // an escaped backslash does not escape the quote
    expect(jsonDepthExceeds("[".repeat(65), 64)).toBe(true); // unclosed counts too
    expect(jsonDepthExceeds(`${"[".repeat(64)}${"]".repeat(64)}`, 64)).toBe(false);
  });
  test("siblings do not add up: depth is nesting, not the number of brackets", () => {
    expect(jsonDepthExceeds(`[${Array.from({ length: 10_000 }, () => "[[]]").join(",")}]`, 3)).toBe(false);
  });
});

describe("readJsonBody and readBodyText", () => {
  const req = (body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) =>
    new Request("http://127.0.0.1/x", { method: "POST", headers, body, duplex: "half" } as RequestInit);
  const status = async (p: Promise<unknown>) => p.then(() => 0, (e: unknown) => (e instanceof HttpError ? e.status : -1));
  const limits = { maxBytes: 100, maxDepth: 2 };

  test("caps, types and depth → 413, 415, 400; a good body parses", async () => {
    expect(await readJsonBody(req('{"a":[1]}'), limits)).toEqual({ a: [1] });
    expect(await status(readJsonBody(req(`{"a":"${"x".repeat(200)}"}`), limits))).toBe(413);
    expect(await status(readJsonBody(req('{"a":[[1]]}'), limits))).toBe(400);
    expect(await status(readJsonBody(req('{"a":1}', { "content-type": "text/plain" }), limits))).toBe(415);
    expect(await status(readJsonBody(req("{"), limits))).toBe(400);
    expect(await status(readJsonBody(req(new Uint8Array([0x7b, 0xff, 0x7d])), limits))).toBe(400);
    expect(await status(readJsonBody(req(""), limits))).toBe(400);
    expect(await readJsonBody(req(""), limits, { optional: true })).toEqual({});
    expect(await readJsonBody(req(null, {}), limits, { optional: true })).toEqual({});
  });
  test("a streamed body without Content-Length is cut off at the cap", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(64).fill(0x61));
      },
    });
    expect(await status(readBodyText(req(endless), 1000))).toBe(413);
    expect(pulled).toBeLessThan(40);
  });
  test("uncappedBodyRoutes: a body route must read through cappedJson or say parse none", () => {
    const capped = cappedJson(limits);
    expect(
      uncappedBodyRoutes([
        { method: "GET", path: "/a" },
        { method: "POST", path: "/b", hooks: { parse: [{ fn: capped }] } },
        { method: "POST", path: "/c", hooks: { parse: [{ fn: "none" }] } },
        { method: "POST", path: "/d" },
        { method: "DELETE", path: "/e", hooks: { parse: [{ fn: async () => ({}) }] } },
      ]),
    ).toEqual(["POST /d", "DELETE /e"]);
  });
});

describe("path guard", () => {
  test("segments as Bun's router hands them over (percent-decoded)", () => {
    for (const ok of ["app", "telegram", "app.js", "swagger-ui-bundle.js", "..." , ".well-known", "a b", "100%"]) expect(unsafeSegmentReason(ok)).toBeNull();
    expect(unsafeSegmentReason("..\\metrics")).toContain("backslash");
    expect(unsafeSegmentReason("..")).toContain("dot segment");
    expect(unsafeSegmentReason(".")).toContain("dot segment");
    expect(unsafeSegmentReason("x/../y")).toContain("dot segment"); // a decoded %2F
    expect(unsafeSegmentReason("app#")).toContain("#");
    expect(unsafeSegmentReason("x\u0000")).toContain("control");
    expect(unsafeSegmentReason("%2e%2E")).toContain("double-encoded");
    expect(unsafeSegmentReason("%5c")).toContain("double-encoded");
    expect(unsafePathReason(["app", "x"])).toBeNull();
    expect(unsafePathReason(["app", ".."])).not.toBeNull();
  });
});
