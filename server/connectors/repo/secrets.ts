// Secret-like strings in source files: provider tokens with unmistakable shapes (AWS access key ids, GitHub, GitLab,
// Slack, Stripe, Google, npm, PyPI, OpenAI and Anthropic keys), private-key headers, credentials written into URLs,
// and high-entropy values assigned to secret-named keys. The secret itself never leaves this module: a finding
// carries file:line, the rule and a snippet in which every match on the line is replaced by [REDACTED] (after the
// provider's public prefix, which says what kind of token it was).
import { createHash } from "node:crypto";

export interface SecretRule {
  id: string;
  title: string;
  severity: "critical" | "high" | "medium";
  /** Global regex; group 1 (or the whole match) is the secret. */
  pattern: RegExp;
  /** Characters of the secret shown before [REDACTED] (a public prefix such as `AKIA` or `ghp_`); -1: the match is not secret itself and is shown. */
  keep: number;
  /** A quick substring test before the regex runs (most lines contain none). */
  hint?: RegExp;
  /** Extra checks on the captured secret (placeholders, documentation examples, low entropy). */
  accept?(secret: string, line: string): boolean;
}

export const REDACTED = "[REDACTED]";

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Values that stand for a secret instead of being one: references, templates, masks, well-known examples. */
export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  if (/\$\{|\$\(|\{\{|<[^>]*>|%\(|%s|process\.env|os\.environ|getenv|secrets\./.test(value)) return true;
  if (/^\$[a-z_][a-z0-9_]*$/i.test(value)) return true;
  if (/^(x+|\*+|\.+|-+|_+|0+|#+)$/i.test(value)) return true;
  if (/(example|placeholder|changeme|change_me|your[-_]?|dummy|redacted|sample|xxxx|\*\*\*\*|fake|test[-_]?(key|token|secret))/.test(v)) return true;
  return false;
}

const notExample = (s: string) => !/EXAMPLE/i.test(s);

export const SECRET_RULES: SecretRule[] = [
  {
    id: "secret.private_key",
    title: "Private key",
    severity: "critical",
    pattern: /-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----/g,
    keep: -1,
    hint: /PRIVATE KEY/,
  },
  {
    id: "secret.aws_access_key_id",
    title: "AWS access key id",
    severity: "high",
    pattern: /\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16})\b/g,
    keep: 4,
    accept: notExample,
  },
  {
    id: "secret.aws_secret_access_key",
    title: "AWS secret access key",
    severity: "critical",
    pattern: /aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    keep: 0,
    hint: /secret/i,
    accept: (s) => notExample(s) && entropy(s) > 4,
  },
  { id: "secret.github_token", title: "GitHub token", severity: "high", pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,255})\b/g, keep: 4, hint: /gh[pousr]_/ },
  { id: "secret.github_token", title: "GitHub fine-grained token", severity: "high", pattern: /\b(github_pat_[A-Za-z0-9_]{80,255})\b/g, keep: 11, hint: /github_pat_/ },
  {
    id: "secret.gitlab_token",
    title: "GitLab token",
    severity: "high",
    pattern: /\b((?:glpat|gldt|glrt|glcbt|glptt|glft|glsoat|gloas)-[A-Za-z0-9_-]{20,})\b/g,
    keep: 6,
    hint: /gl[a-z]{2,4}-/,
  },
  { id: "secret.slack_token", title: "Slack token", severity: "high", pattern: /\b(xox[abposr]-[A-Za-z0-9-]{10,250})\b/g, keep: 5, hint: /xox[abposr]-/, accept: (s) => /\d/.test(s) },
  {
    id: "secret.slack_webhook",
    title: "Slack incoming webhook",
    severity: "medium",
    pattern: /(https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/_-]{20,})/g,
    keep: 29,
    hint: /hooks\.slack\.com/,
  },
  { id: "secret.stripe_key", title: "Stripe live key", severity: "high", pattern: /\b((?:sk|rk)_live_[A-Za-z0-9]{20,247})\b/g, keep: 8, hint: /_live_/ },
  { id: "secret.google_api_key", title: "Google API key", severity: "medium", pattern: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g, keep: 4, hint: /AIza/ },
  { id: "secret.npm_token", title: "npm access token", severity: "high", pattern: /\b(npm_[A-Za-z0-9]{36})\b/g, keep: 4, hint: /npm_/ },
  { id: "secret.pypi_token", title: "PyPI upload token", severity: "high", pattern: /\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})/g, keep: 5, hint: /pypi-AgEI/ },
  { id: "secret.openai_key", title: "OpenAI API key", severity: "high", pattern: /\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})/g, keep: 3, hint: /T3BlbkFJ/ },
  { id: "secret.anthropic_key", title: "Anthropic API key", severity: "high", pattern: /\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,})/g, keep: 7, hint: /sk-ant-/ },
  {
    id: "secret.url_credentials",
    title: "Password written into a URL",
    severity: "high",
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/'"`<>]{1,64}:([^\s:@/'"`<>]{4,128})@[A-Za-z0-9.-]+/gi,
    keep: 0,
    hint: /:\/\/[^\s]*:[^\s]*@/,
    accept: (s) => !isPlaceholder(s) && !/^(pass(word)?|secret|pwd|token|user|username|none|null)$/i.test(s) && /[A-Za-z]/.test(s) && /[^A-Za-z]/.test(s),
  },
  {
    id: "secret.generic_assignment",
    title: "Secret-named value with a high-entropy literal",
    severity: "medium",
    pattern:
      /(?:api[_-]?key|apikey|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|password|passwd|secret)["']?\s*(?::=|=>|[:=])\s*["'`]([A-Za-z0-9+/=_\-.~!@#$%^&*]{16,128})["'`]/gi,
    keep: 0,
    hint: /key|secret|token|passw/i,
    accept: (s) => !isPlaceholder(s) && entropy(s) >= 3.5 && /[A-Za-z]/.test(s) && /[0-9]/.test(s),
  },
];

export interface SecretMatch {
  rule: SecretRule;
  /** 1-based. */
  line: number;
  column: number;
  secret: string;
  /** What identifies this secret for its fingerprint (the secret; for a private key, its header and first body line). */
  identity: string;
}

/** The redacted form of one secret: its public prefix, then [REDACTED]. */
export function redactSecret(secret: string, keep: number): string {
  if (keep < 0) return secret;
  return `${secret.slice(0, Math.min(keep, Math.max(0, secret.length - 8)))}${REDACTED}`;
}

const SNIPPET_CHARS = 160;

/** The line with every secret on it redacted, cut to at most 160 characters around the first one. */
export function redactedSnippet(line: string, matches: SecretMatch[]): string {
  let text = line;
  const sorted = [...matches].sort((a, b) => b.column - a.column);
  for (const m of sorted) {
    const at = m.column - 1;
    text = `${text.slice(0, at)}${redactSecret(m.secret, m.rule.keep)}${text.slice(at + m.secret.length)}`;
  }
  text = text.replace(/\t/g, " ").trimEnd();
  const first = Math.min(...matches.map((m) => m.column - 1));
  const leading = text.length - text.trimStart().length;
  let start = Math.max(leading, first - 60);
  if (text.length - start > SNIPPET_CHARS) {
    const cut = text.slice(start, start + SNIPPET_CHARS);
    // Never end a snippet in the middle of a [REDACTED] marker.
    const open = cut.lastIndexOf("[");
    return `${start > leading ? "…" : ""}${open > cut.lastIndexOf("]") ? cut.slice(0, open) : cut}…`;
  }
  start = Math.max(leading, start);
  return `${start > leading ? "…" : ""}${text.slice(start)}`;
}

const MAX_LINE_CHARS = 20_000;

/** Every secret match in a text, line by line. Lines longer than 20,000 characters (minified code) are scanned in part. */
export function findSecrets(text: string): SecretMatch[] {
  const out: SecretMatch[] = [];
  const lines = text.split("\n");
  for (const [i, full] of lines.entries()) {
    const line = full.length > MAX_LINE_CHARS ? full.slice(0, MAX_LINE_CHARS) : full;
    for (const rule of SECRET_RULES) {
      if (rule.hint && !rule.hint.test(line)) continue;
      rule.pattern.lastIndex = 0;
      for (const m of line.matchAll(rule.pattern)) {
        const secret = m[1] ?? m[0];
        if (rule.accept && !rule.accept(secret, line)) continue;
        const column = m.index + m[0].indexOf(secret) + 1;
        // Two rules matching the same characters report once (the more specific rule comes first in the list).
        if (out.some((o) => o.line === i + 1 && column < o.column + o.secret.length && o.column < column + secret.length)) continue;
        const identity = rule.keep < 0 ? `${secret}\n${(lines[i + 1] ?? "").trim().slice(0, 200)}` : secret;
        out.push({ rule, line: i + 1, column, secret, identity });
      }
    }
  }
  return out;
}

/** A fingerprint for the same secret in the same file of the same repository: stable across runs and line moves. */
export function secretFingerprint(repoKey: string, file: string, ruleId: string, identity: string): string {
  const secretHash = createHash("sha256").update(identity).digest("hex");
  return createHash("sha256").update(["repo.secret", ruleId, repoKey, file, secretHash].join("\u0000")).digest("hex").slice(0, 32);
}
