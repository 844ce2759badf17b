import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelJsonInvalid, ShardMissing, UploadSourceInvalid } from './errors.js';
import { resolveDatasetFile, resolveVersionUpload, weightShardPaths } from './upload-source.js';

describe('resolveVersionUpload', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mf-cli-source-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('sends an archive as the single part `archive`', async () => {
    for (const [name, type] of [
      ['model.tar.gz', 'application/gzip'],
      ['model.TGZ', 'application/gzip'],
      ['model.zip', 'application/zip'],
    ] as const) {
      await writeFile(join(root, name), Buffer.alloc(321));
      const source = await resolveVersionUpload(join(root, name));
      expect(source).toMatchObject({ kind: 'archive', fileBytes: 321 });
      expect(source.parts.map((part) => [part.name, part.filename, part.contentType])).toEqual([
        ['archive', name, type],
      ]);
    }
  });

  it('accepts the path of model.json itself and sends its shards from beside it', async () => {
    const folder = join(root, 'by-file');
    await mkdir(join(folder, 'weights'), { recursive: true });
    await writeFile(
      join(folder, 'model.json'),
      JSON.stringify({ weightsManifest: [{ paths: ['weights/s1.bin', 'weights/s1.bin'] }] }),
    );
    await writeFile(join(folder, 'weights', 's1.bin'), Buffer.alloc(7));
    const source = await resolveVersionUpload(join(folder, 'model.json'));
    expect(source.kind).toBe('directory');
    expect(source.parts.map((part) => part.name)).toEqual(['model.json', 'weights/s1.bin']);
  });

  it('says clearly what is wrong with what it was given', async () => {
    await expect(resolveVersionUpload(join(root, 'nothing-here'))).rejects.toMatchObject({
      code: UploadSourceInvalid.code,
    });
    await writeFile(join(root, 'weights.bin'), Buffer.alloc(1));
    await expect(resolveVersionUpload(join(root, 'weights.bin'))).rejects.toThrow(/neither a folder with model.json/);
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(resolveVersionUpload(empty)).rejects.toThrow(`${empty} has no model.json`);
    const broken = join(root, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'model.json'), '{"weightsManifest": [');
    await expect(resolveVersionUpload(broken)).rejects.toMatchObject({ code: ModelJsonInvalid.code });
  });

  it('names every missing shard, and a folder standing where a shard should be counts as missing', async () => {
    const folder = join(root, 'missing');
    await mkdir(join(folder, 'b.bin'), { recursive: true });
    await writeFile(join(folder, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['a.bin', 'b.bin'] }] }));
    await expect(resolveVersionUpload(folder)).rejects.toMatchObject({
      code: ShardMissing.code,
      details: { missing: ['a.bin', 'b.bin'] },
    });
  });
});

describe('weightShardPaths', () => {
  it('refuses paths that leave the model folder', () => {
    for (const path of ['../secret.bin', '/etc/passwd', 'a/../../b.bin', 'a\\b.bin']) {
      expect(() => weightShardPaths({ weightsManifest: [{ paths: [path] }] }, 'model.json')).toThrow(
        expect.objectContaining({ code: ModelJsonInvalid.code }),
      );
    }
  });

  it('refuses a manifest that is not a list of path lists', () => {
    expect(() => weightShardPaths({}, 'm.json')).toThrow(/no weightsManifest/);
    expect(() => weightShardPaths({ weightsManifest: [{ paths: [1] }] }, 'm.json')).toThrow(/paths is not a list/);
  });
});

describe('resolveDatasetFile', () => {
  it('takes archives and .mfds files and refuses anything else', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mf-cli-dataset-'));
    try {
      await writeFile(join(root, 'set.mfds'), Buffer.alloc(10));
      await writeFile(join(root, 'set.csv'), 'a,b');
      expect(await resolveDatasetFile(join(root, 'set.mfds'))).toMatchObject({
        name: 'file',
        filename: 'set.mfds',
        source: { size: 10 },
      });
      await expect(resolveDatasetFile(join(root, 'set.csv'))).rejects.toThrow(/not a .zip, .tar.gz or .mfds file/);
      await expect(resolveDatasetFile(root)).rejects.toMatchObject({ code: UploadSourceInvalid.code });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
