import { createHash, randomBytes } from 'node:crypto';

/**
 * Fleet credentials: enrolment tokens (`mfe_…`, operators hand them to a fleet) and device tokens
 * (`mfd_…`, one per device). Both look like API keys — `<kind>_<8 hex prefix>_<43 base64url secret>` —
 * and, like them, are shown once and stored only as sha256.
 */
export type FleetTokenKind = 'mfe' | 'mfd';

const PATTERNS: Record<FleetTokenKind, RegExp> = {
  mfe: /^mfe_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/,
  mfd: /^mfd_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/,
};

export function generateFleetToken(kind: FleetTokenKind): { token: string; prefix: string; hash: string } {
  const prefix = randomBytes(4).toString('hex');
  const token = `${kind}_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: hashFleetToken(token) };
}

export function hashFleetToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isWellFormedFleetToken(kind: FleetTokenKind, token: string): boolean {
  return PATTERNS[kind].test(token);
}
