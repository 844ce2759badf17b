import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { databaseOutageOf } from '@modelfleet/db';
import { isModelFleetError, type ModelFleetError } from '@modelfleet/errors';
import type { ErrorResponse } from '@modelfleet/contracts';
import { BodyTooLarge, MediaTypeUnsupported, RequestInvalid, RequestRejected, RouteNotFound } from '../errors.js';

/** Fastify's own client errors, mapped to stable codes of ours so callers see one vocabulary. */
function fromFastifyError(
  error: FastifyError,
  request: FastifyRequest,
  bodyLimit: number,
): ModelFleetError | undefined {
  if (error.validation) {
    return new RequestInvalid(`${error.validationContext ?? 'request'} ${error.message}`, {
      details: { validation: error.validation.map(({ instancePath, message }) => ({ instancePath, message })) },
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // The route's own limit when it has one (device routes are smaller than the server-wide limit).
      return new BodyTooLarge(String(request.routeOptions.bodyLimit ?? bodyLimit));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MediaTypeUnsupported(error.message.replace(/^Unsupported Media Type:?\s*/i, '') || 'unknown');
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new RequestRejected(error.message, { details: { fastifyCode: error.code } });
  }
  return undefined;
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function send(reply: FastifyReply, request: FastifyRequest, error: ModelFleetError): FastifyReply {
  const body: ErrorResponse = {
    statusCode: error.statusCode,
    code: error.code,
    error: REASON[error.statusCode] ?? 'Error',
    message: error.message,
    requestId: request.id,
  };
  if (error.details !== undefined) body.details = error.details;
  // A 503 that knows when to come back says so (a busy or unreachable database); agents and clients wait that long.
  const retryAfter = error.details?.['retryAfterSeconds'];
  if (error.statusCode === 503 && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
  // Refused before the body was read to the end (an upload stopped early: full disk, too large): the rest of
  // the body is never read, so the connection cannot carry another request; close it rather than hang the next.
  if (!request.raw.complete) void reply.header('connection', 'close');
  return reply.status(error.statusCode).type('application/json').send(body);
}

/**
 * The one error handler: ModelFleet errors keep their code and status, Fastify's client errors get
 * codes of ours, a database outage (every connection taken, or the database unreachable) is a 503 with
 * Retry-After, and anything else is a 500 whose details stay in the log, not in the answer.
 */
export const errorHandler = fp(
  async (fastify: FastifyInstance) => {
    const bodyLimit = fastify.initialConfig.bodyLimit ?? 1024 * 1024;
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      const known = isModelFleetError(error)
        ? error
        : (fromFastifyError(error, request, bodyLimit) ?? databaseOutageOf(error));
      if (known !== undefined && known.statusCode < 500) {
        request.log.info({ code: known.code }, known.message);
        return send(reply, request, known);
      }
      if (known !== undefined && known.statusCode === 503) {
        // Load or an outage, not a bug: one line without the stack, the driver's words in `cause`.
        request.log.warn({ code: known.code, cause: (error as Error).message }, known.message);
        return send(reply, request, known);
      }
      if (known !== undefined) {
        request.log.error({ err: error }, 'request failed');
        return send(reply, request, known);
      }
      request.log.error({ err: error }, 'unexpected error');
      return send(reply, request, {
        code: 'MF_ERR_INTERNAL',
        statusCode: 500,
        message: 'internal error; the server log has the details under this request id',
      } as ModelFleetError);
    });
    fastify.setNotFoundHandler((request, reply) =>
      send(reply, request, new RouteNotFound(request.method, request.url.split('?')[0] ?? '')),
    );
  },
  { name: 'modelfleet-error-handler' },
);
