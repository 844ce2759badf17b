import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

/** What a real multipart parser (busboy, via @fastify/multipart, as the server uses) saw of one part. */
export interface ReceivedPart {
  kind: 'field' | 'file';
  fieldname: string;
  filename?: string;
  mimetype?: string;
  value?: string;
  bytes?: number;
  sha256?: string;
}

export interface ReceivedRequest {
  url: string;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  authorization: string | undefined;
  parts: ReceivedPart[];
}

/**
 * A bare Fastify + @fastify/multipart server that answers the two upload routes and records every
 * part it parsed (sizes and sha256 of file parts, streamed, never buffered).
 */
export async function startMultipartServer(): Promise<{
  app: FastifyInstance;
  url: string;
  received: ReceivedRequest[];
}> {
  const received: ReceivedRequest[] = [];
  const app = Fastify();
  await app.register(multipart, { limits: { fileSize: 1024 * 1024 * 1024, files: 100 } });

  async function record(request: FastifyRequest): Promise<ReceivedRequest> {
    const entry: ReceivedRequest = {
      url: request.url,
      contentLength: request.headers['content-length'],
      transferEncoding: request.headers['transfer-encoding'],
      authorization: request.headers.authorization,
      parts: [],
    };
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        entry.parts.push({ kind: 'field', fieldname: part.fieldname, value: String(part.value) });
        continue;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      entry.parts.push({
        kind: 'file',
        fieldname: part.fieldname,
        filename: part.filename,
        mimetype: part.mimetype,
        bytes,
        sha256: hash.digest('hex'),
      });
    }
    received.push(entry);
    return entry;
  }

  app.post('/v1/models/:line/versions', async (request, reply) => {
    await record(request);
    return reply.status(202).send({
      id: `ver-${received.length}`,
      status: 'uploaded',
      statusUrl: `/v1/models/x/versions/ver-${received.length}`,
    });
  });
  app.post('/v1/models/:line/datasets', async (request, reply) => {
    const entry = await record(request);
    const role = entry.parts.find((part) => part.fieldname === 'role')?.value;
    return reply.status(201).send({
      id: 'ds-1',
      role,
      name: null,
      sha256: 'b'.repeat(64),
      sampleCount: 4,
      classCounts: {},
      createdAt: new Date(0).toISOString(),
    });
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: address, received };
}
