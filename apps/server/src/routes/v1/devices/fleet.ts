import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DeviceIdString, DeviceList, ErrorResponse, LineName, Tag } from '@modelfleet/contracts';
import { person } from '../../../auth/access.js';
import { listDevices } from '../../../devices/device-list.js';
import { DeviceNotFound } from '../../../devices/errors.js';

/** ChannelName without its default: an absent filter must stay absent, not become `stable`. */
const ChannelFilter = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };

/** The operators' view of the fleet, and revoking a device's token. */
export const fleetRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/devices',
    {
      config: { access: person('read') },
      schema: {
        tags: ['devices'],
        summary: "Devices: each one's release, state, last error, smoke-test latency and last seen",
        querystring: Type.Object({
          line: Type.Optional(LineName),
          channel: Type.Optional(ChannelFilter),
          tag: Type.Optional(Tag),
        }),
        response: { 200: DeviceList, ...errors },
      },
    },
    async (request) => ({ items: await listDevices(fastify.services.db, request.query) }),
  );

  fastify.delete(
    '/v1/devices/:deviceId',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['devices'],
        summary: "Revoke a device's token (the device can be enrolled again with a valid enrolment token)",
        params: Type.Object({ deviceId: DeviceIdString }),
        response: { 204: Type.Null(), 404: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { prisma } = fastify.services.db;
      const device = await prisma.device.findUnique({
        where: { deviceId: request.params.deviceId },
        select: { id: true, revokedAt: true },
      });
      if (device === null || device.revokedAt !== null) throw new DeviceNotFound(request.params.deviceId);
      await prisma.device.update({ where: { id: device.id }, data: { revokedAt: new Date() } });
      fastify.services.devices.auth.evictDevice(device.id);
      request.log.info({ deviceId: request.params.deviceId }, 'device revoked');
      return reply.status(204).send(null);
    },
  );
};
