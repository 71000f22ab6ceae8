// Evidence as the browser sees it: shapes only (types from server/), and the words a verification is shown with.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../server/trpc/router.ts";

type Outputs = inferRouterOutputs<AppRouter>;
export type EvidenceItem = Outputs["evidence"]["list"]["items"][number];
export type EvidenceDetail = Outputs["evidence"]["get"];
export type EvidenceVerification = Outputs["evidence"]["verify"];

/** One line on what a verification found. */
export function verificationSummary(v: Pick<EvidenceVerification, "ok" | "hash_matches" | "signature_valid" | "signing_key_id">): string {
  if (v.ok) return `The stored bytes hash to the recorded SHA-256 and the Ed25519 signature by ${v.signing_key_id ?? "the evidence key"} checks out.`;
  const parts = [v.hash_matches ? "the stored bytes match the recorded hash" : "the stored bytes do NOT match the recorded hash", v.signature_valid ? "the signature checks out" : "the signature does NOT check out"];
  return `Not verified: ${parts.join("; ")}.`;
}
