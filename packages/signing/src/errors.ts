import { defineError } from '@modelfleet/errors';

export const SignatureInvalid = defineError('MF_ERR_SIGNATURE_INVALID', 400, 'manifest signature does not verify: %s');
export const SigningKeyInvalid = defineError('MF_ERR_SIGNING_KEY_INVALID', 500, 'signing key is not usable: %s');
export const CanonicalJsonInvalid = defineError('MF_ERR_CANONICAL_JSON_INVALID', 400, 'value cannot be signed: %s');
