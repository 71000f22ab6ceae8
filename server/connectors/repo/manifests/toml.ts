// TOML documents (poetry.lock, Cargo.lock) through smol-toml, with the parser's line and column kept for the warning.
import { parse, TomlError } from "smol-toml";
import { ManifestParseError } from "./types.ts";

export function parseTomlText(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) throw new ManifestParseError(`not valid TOML: ${err.message.split("\n")[0]}`, err.line, err.column);
    throw new ManifestParseError(`not valid TOML: ${(err as Error).message}`);
  }
}
