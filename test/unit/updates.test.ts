import { describe, expect, test } from "bun:test";
import { orderKeyOf, parseUpdate } from "../../src/telegram/updates";

describe("parseUpdate", () => {
  test("accepts an object with a non-negative safe integer update_id and keeps routing facts", () => {
    const r = parseUpdate(JSON.stringify({ update_id: 7, message: { chat: { id: -100123 }, from: { id: 5 } } }));
    expect(r).toEqual({ ok: true, updateId: 7, orderKey: "chat:-100123", type: "message" });
  });
  test.each([
    ["not JSON", "{", "body is not valid JSON"],
    ["an array", "[1]", "body must be a JSON object (a Telegram Update)"],
    ["null", "null", "body must be a JSON object (a Telegram Update)"],
    ["missing update_id", "{}", "update_id must be a non-negative integer"],
    ["string update_id", '{"update_id":"1"}', "update_id must be a non-negative integer"],
    ["negative", '{"update_id":-1}', "update_id must be a non-negative integer"],
    ["fractional", '{"update_id":1.5}', "update_id must be a non-negative integer"],
    ["beyond 2^53", '{"update_id":9007199254740993}', "update_id must be a non-negative integer"],
  ])("rejects %s", (_name, body, message) => {
    expect(parseUpdate(body)).toEqual({ ok: false, message });
  });
  test("an unknown update type is accepted (new Bot API versions add types)", () => {
    expect(parseUpdate('{"update_id":1,"future_thing":{"x":1}}')).toEqual({ ok: true, updateId: 1, orderKey: null, type: "future_thing" });
  });
});

describe("orderKeyOf", () => {
  test.each([
    [{ message: { chat: { id: 1 } } }, "chat:1"],
    [{ edited_message: { chat: { id: 2 } } }, "chat:2"],
    [{ channel_post: { chat: { id: -1003 } } }, "chat:-1003"],
    [{ callback_query: { from: { id: 9 }, message: { chat: { id: 4 } } } }, "chat:4"],
    [{ callback_query: { from: { id: 9 }, inline_message_id: "x" } }, "user:9"],
    [{ my_chat_member: { chat: { id: -5 }, from: { id: 1 } } }, "chat:-5"],
    [{ message_reaction: { chat: { id: 6 }, user: { id: 1 } } }, "chat:6"],
    [{ inline_query: { from: { id: 7 } } }, "user:7"],
    [{ poll_answer: { user: { id: 8 } } }, "user:8"],
    [{ poll: { id: "p" } }, null],
  ])("%j → %s", (body, key) => {
    expect(orderKeyOf({ update_id: 1, ...body }).orderKey).toBe(key);
  });
});
