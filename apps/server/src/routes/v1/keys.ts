import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiKeyList, CreateApiKeyBody, CreatedApiKey, ErrorResponse, PublicKeys, WhoAmI } from '@modelfleet/contracts';
import { createApiKey } from '../../auth/api-keys.js';
import { PUBLIC, person } from '../../auth/access.js';
import { ApiKeyNotFound } from '../../domain/errors.js';
import { apiKeyOut } from '../../domain/serialize.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };

export const keyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/keys',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['keys'],
        summary: 'Public keys that sign release manifests (devices pin one of these)',
        response: { 200: PublicKeys },
      },
    },
    async () => {
      const key = fastify.services.signingKey;
      return { keys: [{ keyId: key.keyId, algorithm: 'ed25519' as const, publicKey: key.publicKeyBase64 }] };
    },
  );

  fastify.get(
    '/v1/whoami',
    {
      config: { access: person('read') },
      schema: { tags: ['keys'], summary: 'The API key this request used', response: { 200: WhoAmI, ...errors } },
    },
    async (request) => {
      const principal = request.person!;
      return { kind: 'person' as const, prefix: principal.prefix, scopes: principal.scopes };
    },
  );

  fastify.post(
    '/v1/api-keys',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key for a person or a script; the key is shown once',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...errors },
      },
    },
    async (request, reply) => {
      const { prisma } = fastify.services.db;
      const created = await createApiKey(prisma, request.body);
      const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
      return reply.status(201).send({ ...apiKeyOut(row), key: created.key });
    },
  );

  fastify.get(
    '/v1/api-keys',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['keys'],
        summary: 'List API keys (never the secrets)',
        response: { 200: ApiKeyList, ...errors },
      },
    },
    async () => {
      const rows = await fastify.services.db.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
      return { items: rows.map(apiKeyOut) };
    },
  );

  fastify.delete(
    '/v1/api-keys/:id',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), 404: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { count } = await fastify.services.db.prisma.apiKey.updateMany({
        where: { id: request.params.id, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (count === 0) throw new ApiKeyNotFound(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
