import { defineConfig } from "drizzle-kit";

// `make migrations` runs drizzle-kit generate with this file and with drizzle.postgres.config.ts,
// then embeds each dialect's SQL into the binary.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/sqlite/schema.ts",
  out: "./src/store/sqlite/migrations",
});
