/**
 * Terminal-safe text for what a command prints from untrusted input (a pasted initData's field
 * names and values). Control characters (C0, DEL, C1), line and paragraph separators, bidi
 * controls and invisible characters become \uXXXX escapes, so the input can neither send escape
 * sequences to the terminal nor start a line of its own (a forged "valid" line). Pure.
 */

// C0, DEL, C1; Arabic letter mark; zero-width and direction marks; line/paragraph separators and
// bidi embeddings/overrides; word joiner and bidi isolates; BOM.
const NON_PRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/** The same set without C0: JSON.stringify escapes C0 inside strings, and its own line breaks stay. */
const NON_PRINTABLE_BEYOND_C0 = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** For text output: the characters above escaped, and backslash doubled so an escape is never ambiguous. */
export const printable = (text: string): string => text.replace(/\\/g, "\\\\").replace(NON_PRINTABLE, escape);

/**
 * For JSON output: JSON.stringify already escapes C0 and backslash; this escapes the rest of the
 * set the same way, and the result is still valid JSON that parses to the same value.
 */
export const printableJson = (json: string): string => json.replace(NON_PRINTABLE_BEYOND_C0, escape);
