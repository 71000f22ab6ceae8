// The agent's HTTP client for /v1/agent: every request signed (timestamp, nonce, body hash, key id), answers and
// errors in the API's JSON shape. Network failures surface as Unreachable so callers can tell "refused" from "down".
import type { KeyObject } from "node:crypto";
import { signRequest } from "../domain/fabric/agent-protocol.ts";

export class Unreachable extends Error {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "Unreachable";
  }
}

/** The control plane answered with an error: code, message and the machine-readable reason when there is one. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason: string | null,
    readonly details: unknown,
  ) {
    super(message);
    this.name = "Refused";
  }
}

export interface SigningIdentity {
  privateKey: KeyObject;
  keyId: string;
  nodeId?: string;
}

export interface ClientOptions {
  /** Base URL of the control plane, e.g. https://cairn.example.com */
  url: string;
  timeoutMs?: number;
}

export class ControlPlaneClient {
  readonly base: string;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** One signed request; resolves with the parsed JSON answer, throws Refused (4xx/5xx) or Unreachable. */
  async call<T>(who: SigningIdentity, method: "GET" | "POST", path: string, body?: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const payload = body === undefined ? "" : JSON.stringify(body);
    const fullPath = `/v1/agent${path}`;
    const headers = signRequest(who.privateKey, { method, path: fullPath, keyId: who.keyId, nodeId: who.nodeId, body: payload });
    if (payload) headers["content-type"] = "application/json";
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.base}${fullPath}`, { method, headers, body: payload || undefined, signal });
    } catch (err) {
      throw new Unreachable(`control plane at ${this.base} unreachable: ${(err as Error).cause ? String((err as { cause: Error }).cause.message ?? (err as Error).cause) : (err as Error).message}`, err);
    }
    const text = await res.text().catch(() => "");
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; details?: { reason?: string } } } | null)?.error;
      // A proxy's 502/503/504 while the control plane restarts is an outage, not a refusal.
      if (!e && res.status >= 500) throw new Unreachable(`control plane at ${this.base} answered ${res.status}`);
      throw new Refused(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 200) || `HTTP ${res.status}`), e?.details?.reason ?? null, e?.details ?? null);
    }
    return json as T;
  }
}
