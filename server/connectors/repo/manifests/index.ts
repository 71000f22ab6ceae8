// One entry point for every manifest format scan.repo reads.
import { parseCargoLock, parseGoMod } from "./go-cargo.ts";
import { parsePackageJson, parsePackageLock } from "./npm.ts";
import { parsePoetryLock, parseRequirements } from "./python.ts";
import type { ManifestKind, ParsedManifest } from "./types.ts";

export { manifestKindOf, ManifestParseError, purlOf, type DeclaredPackage, type ManifestKind, type ParsedManifest } from "./types.ts";
export { resolveInstallPath } from "./npm.ts";

/** Parses one manifest; throws ManifestParseError (with line and column when known) when the file is unreadable. */
export function parseManifest(kind: ManifestKind, text: string, file: string): ParsedManifest {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  switch (kind) {
    case "package-lock.json":
      return parsePackageLock(body);
    case "package.json":
      return parsePackageJson(body);
    case "requirements.txt":
      return parseRequirements(body, file);
    case "poetry.lock":
      return parsePoetryLock(body, file);
    case "go.mod":
      return parseGoMod(body, file);
    case "Cargo.lock":
      return parseCargoLock(body, file);
  }
}
