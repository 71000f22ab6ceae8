import { defineConfig } from "drizzle-kit";

// drizzle-kit only generates SQL here; migrations are applied by `cairn migrate` (db/migrate.ts).
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./drizzle",
  casing: "snake_case",
});
