// The agent's local state directory (mode 0700): its private key (0600, generated here, never sent anywhere), the
// pending enrollment, its identity and certificate, the cluster CA it pinned at enrollment, and the last desired-state
// snapshot that verified. Every file is written atomically (temporary file, then rename).
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { rawPublicKeyOf, type SignedDesiredState } from "../domain/fabric/agent-protocol.ts";
import type { NodeKey } from "./agent-api.ts";

export interface Enrollment {
  url: string;
  request_id: string;
  cluster: { id: string; slug: string; name: string };
  requested_at: string;
}

export interface Identity {
  url: string;
  node_id: string;
  identity_id: string;
  cluster: { id: string; slug: string; name: string };
  certificate_serial: string;
  certificate_not_after: string;
  ca_fingerprint: string;
  enrolled_at: string;
}

const FILES = {
  key: "node.key",
  nextKey: "node.key.next",
  enrollment: "enrollment.json",
  identity: "identity.json",
  certificate: "node.crt",
  ca: "cluster-ca.crt",
  snapshot: "desired-state.json",
} as const;

export class StateError extends Error {}

export class AgentState {
  constructor(readonly dir: string) {}

  static open(dir: string): AgentState {
    const abs = path.resolve(dir);
    fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
    fs.chmodSync(abs, 0o700);
    return new AgentState(abs);
  }

  private file(name: string) {
    return path.join(this.dir, name);
  }

  private write(name: string, content: string, mode: number) {
    const tmp = this.file(`.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, content, { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, this.file(name));
  }

  private read(name: string): string | null {
    try {
      return fs.readFileSync(this.file(name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  private json<T>(name: string): T | null {
    const text = this.read(name);
    if (text === null) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new StateError(`${this.file(name)} is not valid JSON: the state directory is damaged`);
    }
  }

  // ---------------------------------------------------------------------------------------------------- keys

  private loadKey(name: string): NodeKey | null {
    const pem = this.read(name);
    if (pem === null) return null;
    const mode = fs.statSync(this.file(name)).mode & 0o777;
    if (mode & 0o077) throw new StateError(`${this.file(name)} is readable by others (mode ${mode.toString(8)}): it must be 0600`);
    const privateKey = createPrivateKey(pem);
    return { privateKey, publicKeyRaw: rawPublicKeyOf(createPublicKey(privateKey)) };
  }

  private saveKey(name: string, key: NodeKey) {
    this.write(name, key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), 0o600);
  }

  key(): NodeKey | null {
    return this.loadKey(FILES.key);
  }

  saveNodeKey(key: NodeKey) {
    this.saveKey(FILES.key, key);
  }

  /** A rotation in progress keeps its new key here until the new certificate is stored. */
  saveNextKey(key: NodeKey) {
    this.saveKey(FILES.nextKey, key);
  }

  promoteNextKey() {
    fs.renameSync(this.file(FILES.nextKey), this.file(FILES.key));
  }

  // ---------------------------------------------------------------------------------------------------- enrollment

  enrollment(): Enrollment | null {
    return this.json<Enrollment>(FILES.enrollment);
  }

  saveEnrollment(e: Enrollment) {
    this.write(FILES.enrollment, JSON.stringify(e, null, 2), 0o600);
  }

  clearEnrollment() {
    fs.rmSync(this.file(FILES.enrollment), { force: true });
  }

  // ---------------------------------------------------------------------------------------------------- identity

  identity(): Identity | null {
    return this.json<Identity>(FILES.identity);
  }

  certificatePem(): string | null {
    return this.read(FILES.certificate);
  }

  caPem(): string | null {
    return this.read(FILES.ca);
  }

  /** Stores an identity after checking that the certificate is for our key and issued by the given CA. */
  saveIdentity(identity: Identity, certificatePem: string, caPem: string, key: KeyObject) {
    checkCertificate(certificatePem, caPem, rawPublicKeyOf(createPublicKey(key)));
    this.write(FILES.ca, caPem, 0o644);
    this.write(FILES.certificate, certificatePem, 0o644);
    this.write(FILES.identity, JSON.stringify(identity, null, 2), 0o600);
  }

  // ---------------------------------------------------------------------------------------------------- snapshot

  snapshot(): SignedDesiredState | null {
    return this.json<SignedDesiredState>(FILES.snapshot);
  }

  saveSnapshot(s: SignedDesiredState) {
    this.write(FILES.snapshot, JSON.stringify(s, null, 2), 0o600);
  }
}

/** The certificate must carry our public key and be signed by the cluster CA we pinned. */
export function checkCertificate(certificatePem: string, caPem: string, publicKeyRaw: string) {
  const cert = new X509Certificate(certificatePem);
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new StateError("the node certificate was not issued by the cluster's CA");
  if (rawPublicKeyOf(cert.publicKey) !== publicKeyRaw) throw new StateError("the node certificate is for another key");
}
