import { defineConfig } from "drizzle-kit";

// `make migrations` runs drizzle-kit generate with this file, then embeds the SQL into the binary.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./src/db/migrations",
});
