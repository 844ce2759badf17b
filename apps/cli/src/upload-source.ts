import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { ModelJsonInvalid, ShardMissing, UploadSourceInvalid } from './errors.js';
import { filePart, type MultipartFile } from './multipart.js';

/** What `upload` sends: model.json and its shards from a folder, or one archive. */
export interface VersionUploadSource {
  kind: 'directory' | 'archive';
  /** The folder or archive, as given. */
  path: string;
  parts: MultipartFile[];
  /** Sum of the files' sizes (the body adds a few hundred bytes of part headers). */
  fileBytes: number;
}

const ARCHIVE_TYPES: readonly (readonly [string, string])[] = [
  ['.tar.gz', 'application/gzip'],
  ['.tgz', 'application/gzip'],
  ['.zip', 'application/zip'],
];

function archiveContentType(path: string): string | undefined {
  const lower = path.toLowerCase();
  return ARCHIVE_TYPES.find(([suffix]) => lower.endsWith(suffix))?.[1];
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR')
      return undefined;
    throw error;
  }
}

/** The shard paths a TF.js model.json's weightsManifest names, in order, each once. */
export function weightShardPaths(modelJson: unknown, where: string): string[] {
  if (modelJson === null || typeof modelJson !== 'object' || Array.isArray(modelJson))
    throw new ModelJsonInvalid(where, 'not a JSON object');
  const manifest = (modelJson as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelJsonInvalid(where, 'it has no weightsManifest array');
  const paths: string[] = [];
  for (const [index, group] of manifest.entries()) {
    const groupPaths = (group as { paths?: unknown } | null)?.paths;
    if (!Array.isArray(groupPaths) || !groupPaths.every((path) => typeof path === 'string' && path.length > 0)) {
      throw new ModelJsonInvalid(where, `weightsManifest[${index}].paths is not a list of file names`);
    }
    for (const path of groupPaths as string[]) {
      // The server stores shards by name; a name that climbs out of the folder is never a shard of this model.
      if (isAbsolute(path) || normalize(path).split(sep).includes('..') || path.includes('\\')) {
        throw new ModelJsonInvalid(where, `weight path ${JSON.stringify(path)} leaves the model's folder`);
      }
      if (!paths.includes(path)) paths.push(path);
    }
  }
  return paths;
}

/**
 * Resolves what `modelfleet upload` was pointed at. A folder (or its model.json) becomes model.json plus
 * every shard its weightsManifest names, all checked to exist before a byte is sent; a .zip/.tar.gz
 * becomes the single part `archive`.
 */
export async function resolveVersionUpload(path: string): Promise<VersionUploadSource> {
  const info = await statOrUndefined(path);
  if (info === undefined) throw new UploadSourceInvalid(`${path} does not exist`);

  if (info.isFile()) {
    const contentType = archiveContentType(path);
    if (contentType !== undefined) {
      const part = await filePart('archive', path, { contentType });
      return { kind: 'archive', path, parts: [part], fileBytes: info.size };
    }
    if (basename(path) !== 'model.json') {
      throw new UploadSourceInvalid(
        `${path} is neither a folder with model.json, a model.json, nor a .zip / .tar.gz archive`,
      );
    }
  } else if (!info.isDirectory()) {
    throw new UploadSourceInvalid(`${path} is neither a file nor a folder`);
  }

  const folder = info.isDirectory() ? path : dirname(path);
  const modelJsonPath = join(folder, 'model.json');
  let text: string;
  try {
    text = await readFile(modelJsonPath, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new UploadSourceInvalid(`${folder} has no model.json`);
    throw error;
  }
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(text);
  } catch (error) {
    throw new ModelJsonInvalid(modelJsonPath, `not JSON (${(error as Error).message})`);
  }

  const shardPaths = weightShardPaths(modelJson, modelJsonPath);
  const shards = await Promise.all(
    shardPaths.map(async (shard) => ({ shard, info: await statOrUndefined(join(folder, shard)) })),
  );
  const missing = shards
    .filter(({ info: shardInfo }) => shardInfo === undefined || !shardInfo.isFile())
    .map(({ shard }) => shard);
  if (missing.length > 0) throw new ShardMissing(folder, missing.join(', '), { details: { missing } });

  const parts = [
    await filePart('model.json', modelJsonPath, { filename: 'model.json', contentType: 'application/json' }),
  ];
  for (const { shard } of shards) {
    parts.push(
      await filePart(shard, join(folder, shard), { filename: shard, contentType: 'application/octet-stream' }),
    );
  }
  const fileBytes = parts.reduce(
    (sum, part) => sum + ('size' in part.source ? part.source.size : part.source.bytes.byteLength),
    0,
  );
  return { kind: 'directory', path, parts, fileBytes };
}

/** A dataset file for `datasets add`: an archive of class folders or a `.mfds` dataset file. */
export async function resolveDatasetFile(path: string): Promise<MultipartFile> {
  const info = await statOrUndefined(path);
  if (info === undefined) throw new UploadSourceInvalid(`${path} does not exist`);
  if (!info.isFile())
    throw new UploadSourceInvalid(`${path} is not a file (give a .zip / .tar.gz of class folders or a .mfds file)`);
  const contentType =
    archiveContentType(path) ?? (path.toLowerCase().endsWith('.mfds') ? 'application/octet-stream' : undefined);
  if (contentType === undefined) throw new UploadSourceInvalid(`${path} is not a .zip, .tar.gz or .mfds file`);
  return filePart('file', path, { contentType });
}
