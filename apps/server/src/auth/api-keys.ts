import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '@modelfleet/db';

export const API_KEY_SCOPES = ['read', 'upload', 'publish', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * What each scope also grants: `admin` is everything, and anyone who may upload or publish may read
 * what they uploaded or published.
 */
const GRANTS: Record<ApiKeyScope, readonly ApiKeyScope[]> = {
  read: ['read'],
  upload: ['upload', 'read'],
  publish: ['publish', 'read'],
  admin: API_KEY_SCOPES,
};

export function scopesGrant(held: readonly ApiKeyScope[], required: ApiKeyScope): boolean {
  return held.some((scope) => GRANTS[scope].includes(required));
}

/** Keys look like `mfk_<8 hex prefix>_<43 base64url secret>`; only sha256(key) is stored. */
const KEY_PATTERN = /^mfk_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isWellFormedApiKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export function generateApiKey(): { key: string; prefix: string } {
  const prefix = randomBytes(4).toString('hex');
  return { key: `mfk_${prefix}_${randomBytes(32).toString('base64url')}`, prefix };
}

export function prefixOf(key: string): string {
  return KEY_PATTERN.exec(key)?.[1] ?? '';
}

export async function createApiKey(
  prisma: PrismaClient,
  input: { name: string; scopes: readonly ApiKeyScope[]; key?: string },
): Promise<{ id: string; key: string; prefix: string }> {
  const generated = input.key === undefined ? generateApiKey() : { key: input.key, prefix: prefixOf(input.key) };
  const row = await prisma.apiKey.create({
    data: { name: input.name, prefix: generated.prefix, hash: hashApiKey(generated.key), scopes: [...input.scopes] },
  });
  return { id: row.id, key: generated.key, prefix: generated.prefix };
}

/**
 * The embedded default's first admin key. When `MODELFLEET_ADMIN_KEY` is set it is registered (once);
 * otherwise, when no key exists at all, one is generated and returned so the caller can show it once.
 */
export async function ensureBootstrapAdminKey(
  prisma: PrismaClient,
  configuredKey: string | undefined,
): Promise<{ key: string; created: boolean } | undefined> {
  if (configuredKey !== undefined) {
    const existing = await prisma.apiKey.findUnique({ where: { hash: hashApiKey(configuredKey) } });
    if (existing !== null) return { key: configuredKey, created: false };
    await createApiKey(prisma, {
      name: 'bootstrap admin (MODELFLEET_ADMIN_KEY)',
      scopes: ['admin'],
      key: configuredKey,
    });
    return { key: configuredKey, created: true };
  }
  if ((await prisma.apiKey.count()) > 0) return undefined;
  const { key } = await createApiKey(prisma, { name: 'bootstrap admin', scopes: ['admin'] });
  return { key, created: true };
}
