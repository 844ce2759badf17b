import { defineError } from '@modelfleet/errors';

export const CredentialMissing = defineError('MF_ERR_CREDENTIAL_MISSING', 401, 'this route needs %s');
export const CredentialInvalid = defineError(
  'MF_ERR_CREDENTIAL_INVALID',
  401,
  'the credential is unknown, revoked or expired',
);
export const ScopeMissing = defineError('MF_ERR_SCOPE_MISSING', 403, 'this route needs the %s scope');
export const WrongCredentialKind = defineError('MF_ERR_WRONG_CREDENTIAL_KIND', 403, 'this route is for %s, not %s');
export const RateLimited = defineError('MF_ERR_RATE_LIMITED', 429, 'too many requests: %s; retry after %s s');
