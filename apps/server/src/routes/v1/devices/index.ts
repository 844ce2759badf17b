import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { enrollRoutes } from './enroll.js';
import { enrollmentTokenRoutes } from './enrollment-tokens.js';
import { fleetRoutes } from './fleet.js';
import { reportRoutes } from './reports.js';
import { updateRoutes } from './update.js';

export { publishEviction } from './publish-eviction.js';

/**
 * The device API (issue 5): enrolment tokens and the fleet view for people; enrol, poll and report for
 * devices. URLs are absolute (/v1/enrollment-tokens, /v1/device/…, /v1/devices) — they share no prefix.
 */
export const deviceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(enrollmentTokenRoutes);
  await fastify.register(enrollRoutes);
  await fastify.register(updateRoutes);
  await fastify.register(reportRoutes);
  await fastify.register(fleetRoutes);
};
