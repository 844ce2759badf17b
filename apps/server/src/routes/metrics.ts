import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { ErrorResponse } from '@modelfleet/contracts';
import { person } from '../auth/access.js';
import {
  EXPOSITION_CONTENT_TYPE,
  LabelledCounter,
  renderExposition,
  type MetricFamily,
} from '../metrics/exposition.js';
import { fleetGauges } from '../metrics/fleet-gauges.js';
import { createJobMetrics } from '../metrics/job-metrics.js';

/** Poll outcomes and the status code each is answered with. */
const POLL_STATUS = { offered: '200', notModified: '304', noRelease: '204' } as const;

/** The blob route counts bytes per blob kind; on the wire of metrics a stored artifact is a full download. */
const BYTES_KIND: Record<string, string> = { artifact: 'full', delta: 'delta' };

const BLOB_ROUTE = '/v1/blobs/:sha256';

/**
 * GET /metrics in the Prometheus text format (docs/metrics.md). Counters of this process (polls, bytes
 * served, blob responses, jobs) and gauges read from the database at scrape time (rollouts, devices,
 * versions). A fastify-plugin so that its response hook sees the blob route, which lives in a sibling.
 */
export const metricsRoutes = fp(
  async (fastify: FastifyInstance) => {
    const jobs = createJobMetrics(fastify.services.queue);
    const blobResponses = new LabelledCounter();
    fastify.addHook('onClose', async () => jobs.stop());
    fastify.addHook('onResponse', async (request, reply) => {
      if (request.method === 'GET' && request.routeOptions.url === BLOB_ROUTE) {
        blobResponses.add({ status: String(reply.statusCode) });
      }
    });

    fastify.get(
      '/metrics',
      {
        config: { access: person('read') },
        schema: {
          tags: ['health'],
          summary: 'Metrics in the Prometheus text format (polls, bytes served, jobs, rollouts, devices)',
          produces: [EXPOSITION_CONTENT_TYPE],
          response: {
            200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }),
            401: ErrorResponse,
            403: ErrorResponse,
          },
        },
      },
      async (_request, reply) => {
        const { devices, db } = fastify.services;
        const polls = devices.polls.counts;
        const bytes = devices.bytesServed.snapshot().byKind as Record<string, number>;
        const processFamilies: MetricFamily[] = [
          {
            name: 'modelfleet_device_polls_total',
            type: 'counter',
            help: 'Device update polls answered by this process: 200 offer, 304 not modified, 204 no release.',
            samples: (Object.keys(POLL_STATUS) as (keyof typeof POLL_STATUS)[]).map((outcome) => ({
              labels: { status: POLL_STATUS[outcome] },
              value: polls[outcome],
            })),
          },
          {
            name: 'modelfleet_blob_bytes_served_total',
            type: 'counter',
            help: 'Blob bytes this process sent to devices, by kind (full artifact or delta).',
            samples: Object.entries(bytes).map(([kind, value]) => ({
              labels: { kind: BYTES_KIND[kind] ?? kind },
              value,
            })),
          },
          {
            name: 'modelfleet_blob_responses_total',
            type: 'counter',
            help: 'Blob download responses of this process by status (200 whole, 206 range, 304, errors).',
            samples: blobResponses.samples(),
          },
        ];
        const families = [...processFamilies, ...jobs.families(), ...(await fleetGauges(db))];
        return reply.type(EXPOSITION_CONTENT_TYPE).send(renderExposition(families));
      },
    );
  },
  { name: 'modelfleet-metrics', dependencies: ['modelfleet-auth'] },
);
