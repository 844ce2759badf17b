import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from './error-handler.js';
import { ServiceUnavailable } from '../errors.js';
import { LineNotFound } from '../domain/errors.js';

describe('the one error handler', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ logger: false, bodyLimit: 1024, genReqId: () => 'req-1' });
    await app.register(errorHandler);
    app.post(
      '/echo',
      { schema: { body: Type.Object({ name: Type.String({ minLength: 2 }) }) } },
      async (request) => request.body,
    );
    app.get('/ours', async () => {
      throw new LineNotFound('sorter');
    });
    app.get('/down', async () => {
      throw new ServiceUnavailable('the queue is closing');
    });
    app.get('/bug', async () => {
      throw new Error('secret connection string postgres://user:pw@db');
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('keeps a ModelFleet error code and status, with the request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/ours' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      statusCode: 404,
      code: 'MF_ERR_LINE_NOT_FOUND',
      error: 'Not Found',
      message: 'model line sorter does not exist',
      requestId: 'req-1',
    });
    const down = await app.inject({ method: 'GET', url: '/down' });
    expect(down.statusCode).toBe(503);
    expect(down.json().code).toBe('MF_ERR_SERVICE_UNAVAILABLE');
  });

  it('answers an unknown route with 404 MF_ERR_ROUTE_NOT_FOUND', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'MF_ERR_ROUTE_NOT_FOUND', message: 'no route DELETE /nowhere' });
  });

  it('turns schema validation into 400 MF_ERR_REQUEST_INVALID with the failing paths', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'x' } });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('MF_ERR_REQUEST_INVALID');
    expect(body.details.validation).toEqual([expect.objectContaining({ instancePath: '/name' })]);
  });

  it('turns Fastify client errors into codes of ours: body too large 413, media type 415, bad JSON 400', async () => {
    const large = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(2000) } });
    expect(large.statusCode).toBe(413);
    expect(large.json().code).toBe('MF_ERR_BODY_TOO_LARGE');
    const media = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-nope' },
      payload: 'a',
    });
    expect(media.statusCode).toBe(415);
    expect(media.json().code).toBe('MF_ERR_MEDIA_TYPE_UNSUPPORTED');
    const json = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().code).toBe('MF_ERR_REQUEST_REJECTED');
  });

  it('answers an unexpected error with 500 MF_ERR_INTERNAL and keeps its message out of the answer', async () => {
    const response = await app.inject({ method: 'GET', url: '/bug' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'MF_ERR_INTERNAL', requestId: 'req-1' });
    expect(response.body).not.toContain('postgres://');
  });
});
