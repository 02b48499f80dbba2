import { describe, expect, test } from "bun:test";
import { validateWidgetLogin } from "../../src/auth/login-widget";
import { nowSeconds, signWidgetFields } from "../support/telegram-auth";

const TOKEN = "123456789:TEST_fake_token_for_tests_only_0000000";
const opts = () => ({ maxAgeSeconds: 3600, now: Date.now() });
const widget = (extra: Record<string, string | number> = {}) =>
  signWidgetFields({ id: 777000111, first_name: "Grace 🌟", last_name: "Hopper", username: "ghopper", photo_url: "https://t.me/i/userpic/320/g.jpg", auth_date: nowSeconds(), ...extra }, TOKEN);

describe("Login Widget validation", () => {
  test("valid fields (numbers as the widget gives them) → user", () => {
    const r = validateWidgetLogin(widget(), TOKEN, opts());
    if (!r.ok) throw new Error(r.message);
    expect(r.value.user).toEqual({ id: 777000111, first_name: "Grace 🌟", last_name: "Hopper", username: "ghopper", photo_url: "https://t.me/i/userpic/320/g.jpg" });
  });
  test("the same fields as strings (a redirect's query) are valid too", () => {
    const asStrings = Object.fromEntries(Object.entries(widget()).map(([k, v]) => [k, String(v)]));
    expect(validateWidgetLogin(asStrings, TOKEN, opts()).ok).toBe(true);
  });
  test("a field Telegram might add later is covered by the hash", () => {
    const signed = widget({ new_field: "x" });
    expect(validateWidgetLogin(signed, TOKEN, opts()).ok).toBe(true);
    const r = validateWidgetLogin({ ...signed, new_field: "y" }, TOKEN, opts());
    expect(r.ok ? null : r.code).toBe("bad_hash");
  });
  test("the initData key derivation does not validate widget data (different secret)", () => {
    const r = validateWidgetLogin(widget(), "987654321:OTHER_fake_token_for_tests_00000000", opts());
    expect(r.ok ? null : r.code).toBe("bad_hash");
  });
  test("tampered name, missing hash, missing id, nested value → clear codes", () => {
    const r1 = validateWidgetLogin({ ...widget(), first_name: "Eve" }, TOKEN, opts());
    expect(r1.ok ? null : r1.code).toBe("bad_hash");
    const { hash: _h, ...noHash } = widget();
    const r2 = validateWidgetLogin(noHash, TOKEN, opts());
    expect(r2.ok ? null : r2.code).toBe("missing_hash");
    const { id: _i, ...noId } = widget();
    const r3 = validateWidgetLogin(noId, TOKEN, opts());
    expect(r3.ok ? null : r3.code).toBe("malformed");
    const r4 = validateWidgetLogin({ ...widget(), extra: { a: 1 } }, TOKEN, opts());
    expect(r4.ok ? null : r4.code).toBe("malformed");
  });
  test("an id that is not a plain safe integer is malformed even when correctly signed (never a rounded id)", () => {
    for (const id of ["9007199254740993", "0777", "+777", " 777", "1e3", "0x309", "-5", "0"]) {
      const r = validateWidgetLogin(widget({ id }), TOKEN, opts());
      expect(r.ok ? `accepted ${id}` : r.code).toBe("malformed");
    }
    const max = validateWidgetLogin(widget({ id: "9007199254740991" }), TOKEN, opts());
    expect(max.ok ? max.value.user.id : null).toBe(9007199254740991);
  });
  test("expired and future auth_date", () => {
    const old = validateWidgetLogin(widget({ auth_date: nowSeconds() - 4000 }), TOKEN, opts());
    expect(old.ok ? null : old.code).toBe("expired");
    const future = validateWidgetLogin(widget({ auth_date: nowSeconds() + 600 }), TOKEN, opts());
    expect(future.ok ? null : future.code).toBe("expired");
    expect(validateWidgetLogin(widget({ auth_date: 1 }), TOKEN, { maxAgeSeconds: 0, now: Date.now() }).ok).toBe(true);
  });
});
