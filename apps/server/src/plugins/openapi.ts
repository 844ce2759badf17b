import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorResponse } from '@modelfleet/contracts';

/** OpenAPI generated from the route schemas; browsable at /docs, raw at /docs/json. */
export const openApi = fp(
  async (fastify: FastifyInstance, options: { version: string }) => {
    fastify.addSchema(ErrorResponse);
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'ModelFleet API',
          description:
            'Fleet model-update server: upload TF.js models, optimise them into quantized candidates, publish signed releases and distribute them to devices by delta.',
          version: options.version,
        },
        tags: [
          { name: 'health', description: 'Liveness and readiness' },
          { name: 'keys', description: 'Signing keys and API keys' },
          { name: 'models', description: 'Model lines' },
          { name: 'datasets', description: 'Test, calibration and train sets of a line' },
          { name: 'versions', description: 'Uploaded models and their candidate tables' },
          { name: 'releases', description: 'Signed releases' },
          { name: 'devices', description: 'Enrolment, polling, blobs and reports (device tokens), and the fleet view' },
          {
            name: 'rollouts',
            description:
              'Staged rollouts of a release in waves, with success and error thresholds; pause, resume, abort, rollback',
          },
          { name: 'dashboard', description: "The operator's browser dashboard and its live event stream" },
        ],
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, mfk_…' },
            deviceToken: {
              type: 'http',
              scheme: 'bearer',
              description: 'A device token, mfd_… (or an enrolment token, mfe_…, to enrol)',
            },
          },
        },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, index) =>
          typeof json.$id === 'string' ? json.$id : `def-${index}`,
      },
    });
    await fastify.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'modelfleet-openapi' },
);
