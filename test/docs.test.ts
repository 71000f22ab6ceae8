// Documentation that operators rely on stays in step with the code.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { envSchema } from "../server/config/env.ts";

const root = path.resolve(import.meta.dirname, "..");

describe("docs", () => {
  it("docs/operations.md documents every environment variable the env module reads", () => {
    const ops = fs.readFileSync(path.join(root, "docs", "operations.md"), "utf8");
    const missing = Object.keys(envSchema.shape).filter((key) => !ops.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });

  it("the README starts with what Cairn is and then the two commands", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const firstSection = readme.split("\n## ")[1] ?? "";
    expect(firstSection.startsWith("The two commands")).toBe(true);
    expect(firstSection).toContain("npm install && npm start");
    expect(firstSection).toContain("npm install && npm test");
  });

  it("every ADR has a status and the three sections", () => {
    const dir = path.join(root, "docs", "decisions");
    const adrs = fs.readdirSync(dir).filter((f) => /^\d{3}-[a-z0-9-]+\.md$/.test(f));
    expect(adrs.length).toBeGreaterThanOrEqual(5);
    for (const file of adrs) {
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      expect(text, file).toMatch(/Status/);
      for (const section of ["Context", "Decision", "Consequences"]) expect(text, file).toContain(section);
    }
  });
});
