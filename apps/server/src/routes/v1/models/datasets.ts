import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  Dataset as DatasetSchema,
  DATASET_ROLES,
  DatasetList,
  DatasetParams,
  ErrorResponse,
  LineParams,
  type DatasetRole,
  type Preprocessing,
} from '@modelfleet/contracts';
import {
  classCounts,
  decodeDataset,
  encodeDataset,
  importArchive,
  DATASET_MAGIC,
  type Dataset,
} from '@modelfleet/datasets';
import { isModelFleetError } from '@modelfleet/errors';
import { readBlobBytes } from '@modelfleet/storage';
import { person } from '../../../auth/access.js';
import { documentMultipartForm, FilePart } from '../../../plugins/multipart-docs.js';
import { DatasetClassesMismatch, DatasetNotFound, UploadInvalid } from '../../../domain/errors.js';
import { letGoAfterCommit, putAndHold, releaseBlob, removeBlobWhenUnused } from '../../../domain/blob-holds.js';
import { findLineOrThrow } from '../../../domain/lines.js';
import { datasetOut } from '../../../domain/serialize.js';
import { receiveMultipart } from '../../../domain/uploads.js';

/** The form as OpenAPI shows it (the handler reads the parts as a stream, in this order). */
const DatasetUploadForm = Type.Object({
  role: Type.Enum(DATASET_ROLES),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  file: FilePart('a .zip or .tar.gz of class folders, or a .mfds dataset file'),
});

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  413: ErrorResponse,
  422: ErrorResponse,
};

function isDatasetFile(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, DATASET_MAGIC.length)) === DATASET_MAGIC;
}

/** A dataset must speak the line's language: the same classes in the same order, at the model's input size. */
function checkAgainstLine(dataset: Dataset, preprocessing: Preprocessing): void {
  const expected = preprocessing.classNames;
  if (dataset.classNames.length !== expected.length || dataset.classNames.some((name, i) => name !== expected[i])) {
    throw new DatasetClassesMismatch(
      `dataset has [${dataset.classNames.join(', ')}], line has [${expected.join(', ')}]`,
    );
  }
  const [height, width] = preprocessing.inputSize;
  if (dataset.height !== height || dataset.width !== width) {
    throw new DatasetClassesMismatch(
      `images are ${dataset.height}x${dataset.width}, the line's input is ${height}x${width}`,
    );
  }
}

export const datasetRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { limits } = fastify.services;

  fastify.post(
    '/:line/datasets',
    {
      config: { access: person('upload'), swaggerTransform: documentMultipartForm(DatasetUploadForm) },
      schema: {
        tags: ['datasets'],
        summary: 'Add a labelled image set to a line (test, calibration or train)',
        description:
          'multipart/form-data: field `role` (test | calibration | train), optional field `name`, then one file part `file`: ' +
          'a .zip or .tar.gz of class folders (`<class>/<image>.png|jpg`) or a dataset file in the engine format (.mfds). ' +
          "Images are resized to the line's input size; class folders must be the line's classes.",
        consumes: ['multipart/form-data'],
        params: LineParams,
        response: { 201: DatasetSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { db, blobs } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const preprocessing = line.preprocessing as unknown as Preprocessing;
      const isReferenced = async (sha256: string) => (await db.prisma.blob.count({ where: { sha256 } })) > 0;
      const upload = await receiveMultipart(
        request,
        blobs,
        { maxTotalBytes: limits.datasetUploadBytes, maxFiles: 1 },
        isReferenced,
      );
      let stored: { sha256: string; created: boolean } | undefined;
      let released = false;
      const letGo = async () => {
        if (released) return;
        released = true;
        await upload.discard();
        if (stored !== undefined) await releaseBlob(blobs, stored.sha256, isReferenced);
      };
      try {
        const role = upload.fields.get('role');
        if (role === undefined || !(DATASET_ROLES as readonly string[]).includes(role)) {
          throw new UploadInvalid(`field role must be one of ${DATASET_ROLES.join(', ')}`);
        }
        const file = upload.files[0];
        if (file === undefined || file.field !== 'file') throw new UploadInvalid('expected one file part named file');
        const bytes = await readBlobBytes(blobs, file.sha256);
        const dataset = isDatasetFile(bytes)
          ? decodeDataset(bytes)
          : await importArchive(bytes, {
              size: preprocessing.inputSize[0],
              classNames: preprocessing.classNames,
              maxEntries: limits.archiveMaxEntries,
              maxExpandedBytes: limits.archiveMaxExpandedBytes,
            }).catch((error: unknown) => {
              // A class folder the line lacks is the same refusal as a dataset file with other classes: one code.
              if (isModelFleetError(error) && error.code === 'MF_ERR_DATASET_UNKNOWN_LABEL') {
                throw new DatasetClassesMismatch(error.message, { cause: error });
              }
              throw error;
            });
        checkAgainstLine(dataset, preprocessing);
        const encoded = encodeDataset(dataset);
        stored = await putAndHold(blobs, encoded, isReferenced);
        const counts = classCounts(dataset);
        const row = await db.prisma.$transaction(async (tx) => {
          // INSERT … ON CONFLICT DO NOTHING: two uploads of the same bytes at once both succeed (an upsert
          // reads, then inserts, and the slower one failed on the primary key under concurrency).
          await tx.blob.createMany({
            data: [{ sha256: stored!.sha256, size: encoded.length, kind: 'dataset' }],
            skipDuplicates: true,
          });
          return tx.dataset.create({
            data: {
              lineId: line.id,
              role: role as DatasetRole,
              name: upload.fields.get('name') ?? file.filename,
              blobSha256: stored!.sha256,
              sampleCount: dataset.labels.length,
              classNames: dataset.classNames,
              classCounts: Object.fromEntries(dataset.classNames.map((name, i) => [name, counts[i] ?? 0])),
            },
          });
        });
        // The upload as sent is not kept: the dataset blob in the engine format (now referenced) is what the jobs read.
        await letGoAfterCommit(request.log, letGo);
        return reply.status(201).send(datasetOut(row));
      } catch (error) {
        await letGo();
        throw error;
      }
    },
  );

  fastify.get(
    '/:line/datasets',
    {
      config: { access: person('read') },
      schema: {
        tags: ['datasets'],
        summary: "List a line's datasets",
        params: LineParams,
        querystring: Type.Object({ role: Type.Optional(Type.Enum(DATASET_ROLES)) }),
        response: { 200: DatasetList, ...errors },
      },
    },
    async (request) => {
      const line = await findLineOrThrow(fastify.services.db, request.params.line);
      const rows = await fastify.services.db.prisma.dataset.findMany({
        where: { lineId: line.id, ...(request.query.role === undefined ? {} : { role: request.query.role }) },
        orderBy: { createdAt: 'asc' },
      });
      return { items: rows.map(datasetOut) };
    },
  );

  fastify.delete(
    '/:line/datasets/:id',
    {
      config: { access: person('upload') },
      schema: {
        tags: ['datasets'],
        summary: 'Delete a dataset (its blob goes when no other dataset uses it)',
        params: DatasetParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { db, blobs } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const row = await db.prisma.dataset.findFirst({ where: { id: request.params.id, lineId: line.id } });
      if (row === null) throw new DatasetNotFound(request.params.id, line.name);
      const orphaned = await db.prisma.$transaction(async (tx) => {
        await tx.dataset.delete({ where: { id: row.id } });
        const others = await tx.dataset.count({ where: { blobSha256: row.blobSha256 } });
        if (others > 0) return false;
        await tx.blob.deleteMany({ where: { sha256: row.blobSha256 } });
        return true;
      });
      const isReferenced = async (sha256: string) => (await db.prisma.blob.count({ where: { sha256 } })) > 0;
      // An upload in flight of the same bytes may be about to record it again: it decides when it lets go.
      if (orphaned) await removeBlobWhenUnused(blobs, row.blobSha256, isReferenced);
      return reply.status(204).send(null);
    },
  );
};
