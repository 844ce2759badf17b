import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, Sha256 } from '@modelfleet/contracts';
import type { RouteAccess } from '../../../auth/access.js';
import { ifNoneMatchMatches, parseByteRange } from '../../../devices/byte-range.js';
import { BlobNotServed, RangeNotSatisfiable } from '../../../devices/errors.js';
import { NoBody } from '../devices/no-body.js';

const DEVICE: RouteAccess = { kind: 'device' };

/** A year, and never revalidated: a blob's address is the hash of its bytes, so its content never changes. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Documented as binary; the handler sends the store's stream, which Fastify pipes without serialising. */
const Bytes = Type.Unsafe<Readable>({
  type: 'string',
  format: 'binary',
  description: 'the blob bytes (or the requested range)',
});

/**
 * Blob downloads for devices: only the artifacts of releases of the device's own line and the deltas to them
 * (issue 6; counted apart in bytes-served), streamed from the
 * store with immutable caching headers, a strong ETag (the sha256) and single byte ranges for resuming.
 */
export const blobRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/blobs/:sha256',
    {
      config: { access: DEVICE },
      schema: {
        tags: ['devices'],
        summary:
          'Download an artifact of a release of this device’s line, or a delta to one (Authorization: Bearer mfd_…); supports Range',
        params: Type.Object({ sha256: Sha256 }),
        response: {
          200: Bytes,
          206: Bytes,
          304: NoBody('the device has this blob already'),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          416: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const { blobs, devices } = fastify.services;
      const device = request.device!;
      const kind = device.channelId === null ? null : await devices.blobAccess.kindFor(device.channelId, sha256);
      if (kind === null) throw new BlobNotServed(sha256);
      const stat = await blobs.stat(sha256);
      if (stat === undefined) throw new BlobNotServed(sha256);

      const etag = `"${sha256}"`;
      reply.header('etag', etag).header('cache-control', IMMUTABLE).header('accept-ranges', 'bytes');
      if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) return reply.status(304).send(undefined);

      // If-Range with another validator means "the copy I have is stale": send it all (RFC 9110 §13.1.5).
      const ifRange = request.headers['if-range'];
      const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
      const range = parseByteRange(rangeHeader, stat.size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${stat.size}`);
        throw new RangeNotSatisfiable(String(rangeHeader), String(stat.size));
      }
      if (request.method === 'HEAD') {
        // Headers only: open nothing (Fastify would read a stream through and drop it, counting bytes never sent).
        const length = range === undefined ? stat.size : range.end - range.start + 1;
        reply.header('content-type', 'application/octet-stream').header('content-length', length);
        if (range !== undefined) reply.header('content-range', `bytes ${range.start}-${range.end}/${stat.size}`);
        // An empty stream, not an empty body: Fastify would answer `Content-Length: 0` for the latter.
        return reply.status(range === undefined ? 200 : 206).send(Readable.from([]));
      }
      const read = await blobs.get(sha256, range);
      devices.bytesServed.request(kind);
      read.stream.on('data', (chunk: Buffer) => devices.bytesServed.add(kind, sha256, chunk.length));
      reply.header('content-type', 'application/octet-stream').header('content-length', read.length);
      if (range === undefined) return reply.status(200).send(read.stream);
      reply.header('content-range', `bytes ${read.start}-${read.end}/${read.size}`);
      return reply.status(206).send(read.stream);
    },
  );
};
