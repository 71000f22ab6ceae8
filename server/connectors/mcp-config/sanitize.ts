// Keeping secret values out of the inventory: URLs lose their credentials and secret-looking query parameters,
// arguments lose values that look like secrets, and `docker -e KEY=value` keeps only the key. Also the two
// judgements the findings need: is a value a reference/placeholder, and does a literal look like a secret.

export const REDACTED = "[REDACTED]";

const SECRET_NAME = /token|secret|passw(or)?d|passwd|(^|[-_])pass($|[-_])|api[-_]?key|access[-_]?key|private[-_]?key|credential|authorization|auth[-_]?(key|header)|bearer|jwt|cookie|session[-_]?(id|key)/i;

/** Does a variable, header or query-parameter name say it holds a secret? */
export function secretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Values that are not the secret itself: a variable or input reference (`${VAR}`, `${input:x}`, `${env:HOME}`,
 * `$VAR`, `%VAR%`, `{{x}}`), a `<placeholder>`, or template text such as YOUR_TOKEN / ghp_your_token / xxxx.
 */
export function isReferenceOrPlaceholder(value: string): boolean {
  const v = value.trim();
  if (!v) return true;
  if (/\$\{[^}]+\}|\$[A-Z_][A-Z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]+\}\}/.test(v)) return true;
  if (/^<[^>]*>$/.test(v) || /^\[[^\]]*\]$/.test(v)) return true;
  if (/your|replace|change[-_ ]?me|placeholder|example|dummy|here|insert|xxx|\*\*\*/i.test(v)) return true;
  return false;
}

// Shapes of well-known credentials (prefix + alphabet), enough to recognise a literal without a telling name.
const KNOWN_SECRET_SHAPES: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/,
  /\bgithub_pat_[A-Za-z0-9_]{40,}\b/,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/,
  /\bsbp_[a-f0-9]{40}\b/,
  /\bsk-(proj-|ant-)?[A-Za-z0-9_-]{20,}\b/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/,
  /\bAIza[0-9A-Za-z_-]{35}\b/,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/,
  /\bnpm_[A-Za-z0-9]{36}\b/,
  /\bhf_[A-Za-z0-9]{30,}\b/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

export function knownSecretShape(value: string): boolean {
  return KNOWN_SECRET_SHAPES.some((re) => re.test(value));
}

/** A long random-looking token: 20+ characters from a token alphabet, mixing letters and digits. */
function tokenLike(value: string): boolean {
  return /^[A-Za-z0-9_\-+/=.~]{20,}$/.test(value) && /[A-Za-z]/.test(value) && /\d/.test(value);
}

/**
 * Does a literal value under `name` look like an inline secret? A value with a known credential shape always does;
 * otherwise the name must say secret and the value must be neither a reference nor a placeholder nor a plain
 * word/flag/URL without credentials.
 */
export function looksLikeInlineSecret(name: string, value: string): boolean {
  const v = value.trim();
  if (!v || isReferenceOrPlaceholder(v)) return false;
  if (knownSecretShape(v)) return true;
  if (urlHasCredentials(v)) return true;
  if (!secretName(name)) return false;
  if (/^(true|false|yes|no|on|off|none|null|\d{1,6})$/i.test(v)) return false;
  if (/^https?:\/\//i.test(v)) return false;
  // Named as a secret: a bearer-style value or anything token-like counts; short plain words (e.g. "strict") do not.
  return tokenLike(v.replace(/^(Bearer|Basic|Token)\s+/i, "")) || v.length >= 12;
}

function urlHasCredentials(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value);
}

/** A URL without userinfo and with secret-looking query parameters (and fragments) replaced. Non-URLs pass through unchanged. */
export function sanitizeUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return value.replace(/\/\/[^/\s@]+@/, `//${REDACTED}@`);
  }
  let changed = false;
  if (u.username || u.password) {
    u.username = "";
    u.password = "";
    changed = true;
  }
  for (const [key, v] of [...u.searchParams.entries()]) {
    if (secretName(key) || looksLikeInlineSecret(key, v)) {
      u.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  if (u.hash) {
    u.hash = "";
    changed = true;
  }
  // Unchanged URLs are returned exactly as written (URL() would normalise them); URL() percent-encodes the
  // brackets of [REDACTED], which are shown as written.
  return changed ? u.toString().replace(/%5BREDACTED%5D/g, REDACTED) : value;
}

const DOCKER_ENV_FLAGS = new Set(["-e", "--env"]);
const SECRET_FLAG = /^--?[A-Za-z0-9-]*(token|secret|password|passwd|api-?key|apikey|access-?key|auth|credential|private-?key)[A-Za-z0-9-]*$/i;

export interface SanitizedArgs {
  args: string[];
  /** Variables set or passed through by `docker run -e KEY[=value]` (keys only). */
  envKeys: string[];
  /** Positions of arguments whose values were removed because they looked like secrets. */
  redacted: { index: number; flag: string | null }[];
}

/**
 * Removes secret values from a command line: `-e KEY=value` (docker/podman) keeps the key, `--token x` /
 * `--api-key=x` lose the value, credential-shaped literals and URL credentials are replaced.
 */
export function sanitizeArgs(args: string[], isContainer: boolean): SanitizedArgs {
  const out: string[] = [];
  const envKeys: string[] = [];
  const redacted: SanitizedArgs["redacted"] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const prev = i > 0 ? args[i - 1]! : null;
    if (isContainer && prev !== null && DOCKER_ENV_FLAGS.has(prev)) {
      const eq = a.indexOf("=");
      const key = eq < 0 ? a : a.slice(0, eq);
      envKeys.push(key);
      out.push(eq < 0 ? a : `${key}=${REDACTED}`);
      continue;
    }
    if (isContainer && /^--env=/.test(a)) {
      const kv = a.slice("--env=".length);
      const eq = kv.indexOf("=");
      const key = eq < 0 ? kv : kv.slice(0, eq);
      envKeys.push(key);
      out.push(eq < 0 ? a : `--env=${key}=${REDACTED}`);
      continue;
    }
    const eqAt = a.indexOf("=");
    if (a.startsWith("-") && eqAt > 0) {
      const flag = a.slice(0, eqAt);
      const value = a.slice(eqAt + 1);
      if ((SECRET_FLAG.test(flag) && !isReferenceOrPlaceholder(value) && value !== "") || looksLikeInlineSecret(flag, value)) {
        out.push(`${flag}=${REDACTED}`);
        redacted.push({ index: i, flag });
        continue;
      }
      out.push(`${flag}=${sanitizeUrl(value)}`);
      continue;
    }
    if (prev !== null && SECRET_FLAG.test(prev) && !a.startsWith("-") && !isReferenceOrPlaceholder(a)) {
      out.push(REDACTED);
      redacted.push({ index: i, flag: prev });
      continue;
    }
    if (knownSecretShape(a) || urlHasCredentials(a)) {
      out.push(urlHasCredentials(a) ? sanitizeUrl(a) : REDACTED);
      redacted.push({ index: i, flag: null });
      continue;
    }
    out.push(/^[a-z][a-z0-9+.-]*:\/\//i.test(a) ? sanitizeUrl(a) : a);
  }
  return { args: out, envKeys, redacted };
}
