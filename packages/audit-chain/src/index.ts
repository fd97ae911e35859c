/** The audit trail's hash chain, its signed digests, and the verifier of an export. */
export { type ChainPoint, canonicalOf, genesisHash, linkHash } from "./chain.ts";
export {
  digestEventName,
  digestSignatureValid,
  digestSignedBytes,
  parsePrivateKey,
  parsePublicKey,
  signDigest,
} from "./digest.ts";
export { verifyTrail } from "./verify.ts";
export { type TrailProblem, TrailProblemKind, type TrailReport, type VerifyOptions } from "./verify-types.ts";
