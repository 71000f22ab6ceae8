// Any console.error during a test is a failure: it means something went wrong that no assertion looked at.
import { afterEach, vi } from "vitest";

const errors: unknown[][] = [];
vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
  errors.push(args);
});

afterEach(() => {
  if (errors.length) {
    const seen = errors.splice(0).map((a) => a.map(String).join(" ")).join("\n");
    throw new Error(`console.error was called during the test:\n${seen}`);
  }
});
