import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { dashboardRoutes } from '../routes/dashboard.js';
import { eventRoutes, type EventRoutesOptions } from '../routes/events.js';
import { metricsRoutes } from '../routes/metrics.js';

export type OperatorViewOptions = EventRoutesOptions;

/**
 * The operators' view (issue 7): the dashboard's static files, the change events it listens to, and
 * /metrics. One registration in app.ts.
 */
export const operatorView = fp(
  async (fastify: FastifyInstance, options: OperatorViewOptions) => {
    await fastify.register(metricsRoutes);
    await fastify.register(eventRoutes, options);
    await fastify.register(dashboardRoutes);
  },
  { name: 'modelfleet-operator-view', dependencies: ['modelfleet-auth'] },
);
