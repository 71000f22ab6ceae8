// Lint rules that guard the architecture: browser code never imports server/ or db/, only the env module reads
// process.env, and Drizzle update/delete always carry a where clause.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import drizzle from "eslint-plugin-drizzle";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "public/build/", "test-results/", "playwright-report/", ".cairn/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: "module" },
    plugins: { drizzle },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports", disallowTypeAnnotations: false }],
      "drizzle/enforce-delete-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "drizzle/enforce-update-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through server/config/env.ts only." }],
    },
  },
  {
    // The env module is the one reader of process.env; tests, scripts and tool configs set up processes.
    files: ["server/config/env.ts", "**/*.test.ts", "test/**", "e2e/**", "scripts/**", "*.config.{js,ts}", "bin/**"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The credential broker resolves `env` credential refs from the process environment at run time, for one job:
    // those variables are per-tenant secrets, not configuration, so they must not pass through the env module.
    files: ["server/domain/credentials/credential-broker.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    files: ["app/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/server/**", "**/db/**", "../server", "../db", "~/../server/**", "~/../db/**"],
              allowTypeImports: true,
              message: "Browser code must not import server/ or db/ (type-only imports are fine; put server-only bridges in app/**/*.server.ts).",
            },
          ],
        },
      ],
    },
  },
  {
    // Server-only bridges inside app/ may import the server.
    files: ["app/**/*.server.{ts,tsx}"],
    rules: { "@typescript-eslint/no-restricted-imports": "off" },
  },
);
