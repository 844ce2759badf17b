import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ErrorResponse,
  LineParams,
  ModelVersion,
  VersionAccepted,
  VersionParams,
  VersionQuery,
} from '@modelfleet/contracts';
import { isHiddenPath, unpackArchive } from '@modelfleet/archive';
import { MODEL_JSON, readArtifact, sha256Hex } from '@modelfleet/model-format';
import { readBlobBytes } from '@modelfleet/storage';
import { person } from '../../../auth/access.js';
import { documentMultipartForm, FilePart } from '../../../plugins/multipart-docs.js';
import { candidateTableCsv, candidateTableMarkdown } from '../../../domain/candidate-table.js';
import { UploadInvalid } from '../../../domain/errors.js';
import { letGoAfterCommit, putAndHold, releaseBlob } from '../../../domain/blob-holds.js';
import { findLineOrThrow } from '../../../domain/lines.js';
import { loadVersion } from '../../../domain/versions.js';
import { receiveMultipart, type ReceivedUpload } from '../../../domain/uploads.js';

/** The form as OpenAPI shows it: model.json and one part per shard named by its manifest path, or one archive. */
const VersionUploadForm = Type.Object(
  {
    'model.json': Type.Optional(FilePart('the TF.js LayersModel topology and weights manifest')),
    archive: Type.Optional(FilePart('instead of the files: a .zip or .tar.gz holding model.json and its shards')),
  },
  {
    additionalProperties: FilePart(
      'a weight shard, the part named by its path in the weights manifest (e.g. group1-shard1of1.bin)',
    ),
  },
);

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  413: ErrorResponse,
  422: ErrorResponse,
};

/**
 * The uploaded model as files: either the parts themselves (model.json + shards, each part named by its
 * file name), or the one `archive` part unpacked (model.json may sit in a top folder).
 */
async function uploadedFiles(
  upload: ReceivedUpload,
  read: (sha256: string) => Promise<Uint8Array>,
  limits: { archiveMaxEntries: number; archiveMaxExpandedBytes: number },
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const archive = upload.files.find((file) => file.field === 'archive');
  if (archive !== undefined) {
    if (upload.files.length !== 1)
      throw new UploadInvalid('send either one archive part or model.json with its shards, not both');
    const entries = await unpackArchive(await read(archive.sha256), {
      maxEntries: limits.archiveMaxEntries,
      maxExpandedBytes: limits.archiveMaxExpandedBytes,
      accept: (segments) => !isHiddenPath(segments),
    });
    const modelJson = entries.find((entry) => entry.path === MODEL_JSON || entry.path.endsWith(`/${MODEL_JSON}`));
    if (modelJson === undefined) throw new UploadInvalid('the archive holds no model.json');
    const root = modelJson.path.slice(0, modelJson.path.length - MODEL_JSON.length);
    for (const entry of entries) {
      if (entry.path.startsWith(root)) files.set(entry.path.slice(root.length), entry.bytes);
    }
    return files;
  }
  for (const file of upload.files) {
    if (files.has(file.field)) throw new UploadInvalid(`part ${file.field} was sent twice`);
    files.set(file.field, await read(file.sha256));
  }
  return files;
}

export const versionRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { limits } = fastify.services;

  fastify.post(
    '/:line/versions',
    {
      config: { access: person('upload'), swaggerTransform: documentMultipartForm(VersionUploadForm) },
      schema: {
        tags: ['versions'],
        summary: 'Upload a trained TF.js LayersModel; the optimize job starts at once',
        description:
          'multipart/form-data: one part per file, named by its file name (`model.json` and every weight shard its ' +
          'weightsManifest names), or a single part `archive` (.zip / .tar.gz holding model.json and the shards). ' +
          'Every file is streamed to the blob store, then the model is validated (format, manifest against the bytes, ' +
          'finite weights, supported layers). Answers 202 with the URL to follow.',
        consumes: ['multipart/form-data'],
        params: LineParams,
        response: { 202: VersionAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { db, blobs, queue } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const isReferenced = async (sha256: string) => (await db.prisma.blob.count({ where: { sha256 } })) > 0;
      const upload = await receiveMultipart(
        request,
        blobs,
        { maxTotalBytes: limits.modelUploadBytes, maxFiles: limits.modelUploadMaxFiles },
        isReferenced,
      );
      const stored: { sha256: string; created: boolean }[] = [];
      let versionId: string | undefined;
      try {
        if (upload.files.length === 0)
          throw new UploadInvalid('no files: send model.json and its weight shards, or an archive');
        const files = await uploadedFiles(upload, (sha256) => readBlobBytes(blobs, sha256), limits);
        readArtifact(files); // validates everything, or throws a specific MF_ERR_…
        // Keep exactly the files the model consists of, as uploaded: model.json and its shards in manifest order.
        const manifest = JSON.parse(new TextDecoder().decode(files.get(MODEL_JSON))) as {
          weightsManifest: { paths: string[] }[];
        };
        const shardPaths = manifest.weightsManifest.flatMap((group) => group.paths);
        const keep = [MODEL_JSON, ...shardPaths];
        for (const name of keep) stored.push(await putAndHold(blobs, files.get(name)!, isReferenced));
        const sourceBytes = keep.reduce((sum, name) => sum + files.get(name)!.length, 0);
        const version = await db.prisma.$transaction(async (tx) => {
          // INSERT … ON CONFLICT DO NOTHING, atomic under concurrent uploads of the same files (an upsert is not).
          await tx.blob.createMany({
            data: keep.map((name, index) => ({
              sha256: stored[index]!.sha256,
              size: files.get(name)!.length,
              kind: 'model_source' as const,
            })),
            skipDuplicates: true,
          });
          return tx.modelVersion.create({
            data: {
              lineId: line.id,
              modelJsonSha256: stored[0]!.sha256,
              weightShardSha256s: stored.slice(1).map((blob) => blob.sha256),
              sourceBytes,
            },
          });
        });
        versionId = version.id;
        await queue.enqueue('optimize', { versionId: version.id }, { jobId: `optimize-${version.id}` });
        // Recorded and enqueued: from here on nothing may take the version back (the catch below would).
        versionId = undefined;
        const held = stored.splice(0);
        await letGoAfterCommit(request.log, async () => {
          await upload.discard();
          for (const blob of held) await releaseBlob(blobs, blob.sha256, isReferenced);
        });
        request.log.info(
          { versionId: version.id, line: line.name, sourceBytes, sha256: sha256Hex(files.get(MODEL_JSON)!) },
          'version uploaded',
        );
        return reply.status(202).send({
          id: version.id,
          status: version.status,
          statusUrl: `/v1/models/${line.name}/versions/${version.id}`,
        });
      } catch (error) {
        if (versionId !== undefined) {
          // The version was recorded but not enqueued (e.g. MF_ERR_JOB_QUEUE_CLOSED while shutting down): take it
          // back, with the blob rows no other version uses. (Filtering on `created` missed them: the parts were
          // put, and so created, by the multipart receiver, not by the put above.)
          await db.prisma.modelVersion.delete({ where: { id: versionId } }).catch(() => undefined);
          for (const { sha256 } of stored) {
            const users = await db.prisma.modelVersion.count({
              where: { OR: [{ modelJsonSha256: sha256 }, { weightShardSha256s: { has: sha256 } }] },
            });
            if (users === 0) await db.prisma.blob.deleteMany({ where: { sha256, kind: 'model_source' } });
          }
        }
        await upload.discard();
        for (const blob of stored.splice(0)) await releaseBlob(blobs, blob.sha256, isReferenced);
        throw error;
      }
    },
  );

  fastify.get(
    '/:line/versions',
    {
      config: { access: person('read') },
      schema: {
        tags: ['versions'],
        summary: "A line's versions, newest first",
        params: LineParams,
        response: { 200: Type.Object({ items: Type.Array(ModelVersion) }), ...errors },
      },
    },
    async (request) => {
      const { db } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const rows = await db.prisma.modelVersion.findMany({
        where: { lineId: line.id },
        orderBy: { createdAt: 'desc' },
        take: 100,
        select: { id: true },
      });
      return { items: await Promise.all(rows.map((row) => loadVersion(db, line.name, row.id))) };
    },
  );

  fastify.get(
    '/:line/versions/:version',
    {
      config: { access: person('read') },
      schema: {
        tags: ['versions'],
        summary: 'A version: status, progress, the candidate table and the decision',
        description: '`?format=markdown` or `?format=csv` answers the candidate table as text for people.',
        params: VersionParams,
        querystring: VersionQuery,
        response: { 200: ModelVersion, ...errors },
        produces: ['application/json', 'text/markdown', 'text/csv'],
      },
    },
    async (request, reply) => {
      const version = await loadVersion(fastify.services.db, request.params.line, request.params.version);
      switch (request.query.format) {
        case 'markdown':
          // Text answers for people bypass the JSON response schema (hence the cast).
          return reply
            .type('text/markdown; charset=utf-8')
            .serializer(String)
            .send(candidateTableMarkdown(version) as never);
        case 'csv':
          return reply
            .type('text/csv; charset=utf-8')
            .serializer(String)
            .send(candidateTableCsv(version) as never);
        default:
          return version;
      }
    },
  );
};
