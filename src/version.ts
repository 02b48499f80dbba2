// Replaced at build time by `bun build --define` (see the Makefile); "dev" when run from source.
declare const TGWH_BUILD_VERSION: string | undefined;
declare const TGWH_BUILD_COMMIT: string | undefined;

export const VERSION = typeof TGWH_BUILD_VERSION === "string" ? TGWH_BUILD_VERSION : "dev";
export const COMMIT = typeof TGWH_BUILD_COMMIT === "string" ? TGWH_BUILD_COMMIT : "unknown";
