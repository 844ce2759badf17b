/**
 * @modelfleet/signing — ed25519 signatures over canonical JSON, used for release manifests. Only Node's
 * built-in crypto: the device agent depends on this package and must stay light.
 */
export { canonicalJson } from './canonical-json.js';
export { signEnvelope, verifyEnvelope, type SignedEnvelope } from './envelope.js';
export {
  generateSigningKey,
  keyIdOf,
  loadOrCreateSigningKey,
  publicKeyFromBase64,
  signingKeyFromPem,
  signingKeyToPem,
  type SigningKey,
} from './keys.js';
export { CanonicalJsonInvalid, SignatureInvalid, SigningKeyInvalid } from './errors.js';
