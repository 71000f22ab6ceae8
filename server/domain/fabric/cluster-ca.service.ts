// Each cluster's own certificate authority: an Ed25519 key (encrypted at rest with the installation secret, like the
// control plane's signing keys) and a self-signed CA certificate; it issues X.509 node certificates for the public key
// a node generated itself, and signs that cluster's desired-state snapshots. Clusters never share a CA.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, randomUUID, webcrypto, type KeyObject } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Tx } from "../../../db/tenant.ts";
import { clusterCas } from "../../../db/schema/index.ts";
import { decryptPrivateKey, encryptPrivateKey } from "../audit/signing-key.service.ts";
import { certificateFingerprint } from "./agent-protocol.ts";
import { AppError } from "../../errors.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ED25519 = { name: "Ed25519" };
const CA_VALIDITY_YEARS = 10;

export type ClusterCaRow = typeof clusterCas.$inferSelect;

export interface LoadedCa {
  row: ClusterCaRow;
  certificate: x509.X509Certificate;
  privateKey: KeyObject;
}

/** The AES-GCM associated data: a CA's ciphertext cannot be moved to another CA's row. */
const keyId = (caId: string) => `cluster-ca:${caId}`;

function serialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return bytes.toString("hex");
}

/** A DN attribute value: the characters X.500 string syntax would need escaped are replaced. */
const dn = (value: string) => value.replace(/[,+"\\<>;=#]/g, "-");

export async function createClusterCa(tx: Tx, secret: string, cluster: { id: string; slug: string }): Promise<ClusterCaRow> {
  const keys = (await webcrypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const serial = serialHex();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: `CN=Cairn cluster ${dn(cluster.slug)} CA, O=Cairn, OU=cluster ${cluster.id}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ED25519,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const id = randomUUID();
  const pem = certificate.toString("pem");
  const [row] = await tx
    .insert(clusterCas)
    .values({ id, clusterId: cluster.id, serial, certificatePem: pem, fingerprint: certificateFingerprint(pem), privateKeyEnc: encryptPrivateKey(secret, keyId(id), pkcs8), notBefore, notAfter })
    .returning();
  return row!;
}

export async function loadActiveCa(tx: Tx, secret: string, clusterId: string): Promise<LoadedCa> {
  const [row] = await tx.select().from(clusterCas).where(and(eq(clusterCas.clusterId, clusterId), eq(clusterCas.status, "active")));
  if (!row) throw new AppError("INTERNAL", `Cluster ${clusterId} has no active certificate authority`);
  return loadCa(row, secret);
}

export function loadCa(row: ClusterCaRow, secret: string): LoadedCa {
  return { row, certificate: new x509.X509Certificate(row.certificatePem), privateKey: decryptPrivateKey(secret, keyId(row.id), row.privateKeyEnc) };
}

export interface IssuedCertificate {
  pem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** An X.509 certificate for a node's own Ed25519 public key (raw, base64), signed by the cluster's CA. */
export async function issueNodeCertificate(ca: LoadedCa, subject: { nodeId: string; clusterId: string; nodeName: string; publicKeyRaw: string; ttlHours: number }): Promise<IssuedCertificate> {
  const caSigningKey = await webcrypto.subtle.importKey("pkcs8", ca.privateKey.export({ type: "pkcs8", format: "der" }), ED25519, false, ["sign"]);
  const nodePublicKey = await webcrypto.subtle.importKey("raw", Buffer.from(subject.publicKeyRaw, "base64"), ED25519, true, ["verify"]);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + subject.ttlHours * 3_600_000);
  if (notAfter > ca.row.notAfter) throw new AppError("CONFLICT", "The cluster's CA expires before this certificate would: the cluster needs a new CA");
  const serial = serialHex();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${dn(subject.nodeName)}, OU=node ${subject.nodeId}, O=Cairn cluster ${subject.clusterId}`,
    issuer: ca.certificate.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ED25519,
    publicKey: nodePublicKey,
    signingKey: caSigningKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: `urn:cairn:cluster:${subject.clusterId}:node:${subject.nodeId}` }], false),
      await x509.SubjectKeyIdentifierExtension.create(nodePublicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false),
    ],
  });
  return { pem: certificate.toString("pem"), serial, notBefore, notAfter };
}
