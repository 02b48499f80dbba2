import { defineConfig } from "drizzle-kit";

// `make migrations` runs drizzle-kit generate with this file and with drizzle.sqlite.config.ts,
// then embeds each dialect's SQL into the binary (scripts/embed-migrations.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/postgres/schema.ts",
  out: "./src/store/postgres/migrations",
});
