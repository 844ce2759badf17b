import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArchive } from './archive.js';
import { importImageFolder } from './folder.js';

/** A solid-colour image, encoded as PNG or JPEG, at a size that is not the import size. */
async function solid(rgb: [number, number, number], format: 'png' | 'jpeg', channels: 1 | 3 = 3): Promise<Uint8Array> {
  const image = sharp({
    create: { width: 20, height: 12, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  const encoded = channels === 1 ? image.toColourspace('b-w') : image;
  return new Uint8Array(await (format === 'png' ? encoded.png() : encoded.jpeg({ quality: 95 })).toBuffer());
}

async function tarGz(
  files: Array<{ name: string; bytes?: Uint8Array; type?: 'file' | 'symlink' | 'directory'; linkname?: string }>,
): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const file of files) {
    if (file.type === 'symlink') pack.entry({ name: file.name, type: 'symlink', linkname: file.linkname ?? 'x' });
    else if (file.type === 'directory') pack.entry({ name: file.name, type: 'directory' });
    else pack.entry({ name: file.name }, Buffer.from(file.bytes ?? new Uint8Array()));
  }
  pack.finalize();
  await collected;
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

let red: Uint8Array;
let blue: Uint8Array;
let grey: Uint8Array;

beforeAll(async () => {
  red = await solid([250, 10, 10], 'png');
  blue = await solid([10, 10, 250], 'jpeg');
  grey = await solid([128, 128, 128], 'png', 1);
});

function expectPixel(images: Uint8Array, index: number, size: number, rgb: [number, number, number]): void {
  const at = index * size * size * 3;
  for (let c = 0; c < 3; c++) expect(Math.abs(images[at + c]! - rgb[c]!)).toBeLessThanOrEqual(6);
}

describe('importArchive', () => {
  it('imports a zip with one top folder of class folders, resizing and labelling by folder', async () => {
    const zip = zipSync({
      'set/': new Uint8Array(),
      'set/can/a.png': red,
      'set/can/b.JPG': blue,
      'set/bottle/c.jpeg': blue,
      'set/bottle/notes.txt': new TextEncoder().encode('not an image'),
      '__MACOSX/set/can/._a.png': new Uint8Array([0]),
    });
    const ds = await importArchive(zip, { size: 8 });
    expect(ds.classNames).toEqual(['bottle', 'can']);
    expect([...ds.labels]).toEqual([0, 1, 1]);
    expect(ds.images.length).toBe(3 * 8 * 8 * 3);
    expectPixel(ds.images, 1, 8, [250, 10, 10]);
    expectPixel(ds.images, 2, 8, [10, 10, 250]);
  });

  it('imports a tar.gz, turns a greyscale image into RGB and keeps the given class order', async () => {
    const archive = await tarGz([
      { name: 'can', type: 'directory' },
      { name: 'can/grey.png', bytes: grey },
      { name: 'carton/red.png', bytes: red },
    ]);
    const ds = await importArchive(archive, { size: 4, classNames: ['carton', 'can', 'pet_bottle'] });
    expect(ds.classNames).toEqual(['carton', 'can', 'pet_bottle']);
    expect([...ds.labels]).toEqual([0, 1]);
    expectPixel(ds.images, 1, 4, [128, 128, 128]);
  });

  it('refuses a class folder that is not one of the given class names', async () => {
    const zip = zipSync({ 'can/a.png': red, 'unknown/b.png': red });
    await expect(importArchive(zip, { size: 4, classNames: ['can'] })).rejects.toMatchObject({
      code: 'MF_ERR_DATASET_UNKNOWN_LABEL',
    });
  });

  it('refuses entries that climb out with .. or are absolute', async () => {
    await expect(importArchive(zipSync({ 'can/../../evil.png': red }), { size: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_UNSAFE_PATH',
    });
    await expect(
      importArchive(await tarGz([{ name: '/etc/can/a.png', bytes: red }]), { size: 4 }),
    ).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_UNSAFE_PATH',
    });
    await expect(
      importArchive(await tarGz([{ name: 'can\\..\\..\\a.png', bytes: red }]), { size: 4 }),
    ).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_UNSAFE_PATH',
    });
    await expect(importArchive(zipSync({ 'C:/can/a.png': red }), { size: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_UNSAFE_PATH',
    });
  });

  it('refuses links in a tar', async () => {
    const archive = await tarGz([{ name: 'can/a.png', type: 'symlink', linkname: '/etc/passwd' }]);
    await expect(importArchive(archive, { size: 4 })).rejects.toMatchObject({ code: 'MF_ERR_ARCHIVE_INVALID' });
  });

  it('bounds the entry count', async () => {
    const files = Object.fromEntries([...Array(5).keys()].map((i) => [`can/${i}.png`, red]));
    await expect(importArchive(zipSync(files), { size: 4, maxEntries: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
    });
    const archive = await tarGz(Object.entries(files).map(([name, bytes]) => ({ name, bytes })));
    await expect(importArchive(archive, { size: 4, maxEntries: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
    });
    expect((await importArchive(archive, { size: 4, maxEntries: 5 })).labels.length).toBe(5);
  });

  it('bounds the expanded bytes, including a small archive that inflates to a lot', async () => {
    // 4 MB of zeros compresses to a few KB: the limit must hold on what it expands to.
    const bomb = new Uint8Array(4 * 1024 * 1024);
    const zip = zipSync({ 'can/big.png': bomb }, { level: 9 });
    expect(zip.length).toBeLessThan(64 * 1024);
    await expect(importArchive(zip, { size: 4, maxExpandedBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_LARGE',
    });
    const archive = await tarGz([{ name: 'can/big.png', bytes: bomb }]);
    expect(archive.length).toBeLessThan(64 * 1024);
    await expect(importArchive(archive, { size: 4, maxExpandedBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_LARGE',
    });
  });

  it('never inflates a zip entry past the size its headers declare', async () => {
    // A zip bomb that understates its size: fflate inflates into a buffer of the declared size,
    // so the entry is cut there (and then fails to decode) instead of growing to 4 MB.
    const zip = zipSync({ 'can/big.png': new Uint8Array(4 * 1024 * 1024) }, { level: 9 });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    view.setUint32(22, 1000, true); // local header: uncompressed size
    for (let i = zip.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50) {
        view.setUint32(i + 24, 1000, true); // central directory: uncompressed size
        break;
      }
    }
    await expect(importArchive(zip, { size: 4, maxExpandedBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'MF_ERR_DATASET_IMAGE_UNREADABLE',
    });
  });

  it('refuses bytes that are no archive, images that do not decode and images outside a class folder', async () => {
    await expect(importArchive(new Uint8Array([1, 2, 3, 4]), { size: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_INVALID',
    });
    await expect(importArchive(zipSync({ 'can/a.png': new Uint8Array([1, 2, 3]) }), { size: 4 })).rejects.toMatchObject(
      {
        code: 'MF_ERR_DATASET_IMAGE_UNREADABLE',
      },
    );
    await expect(importArchive(zipSync({ 'a.png': red }), { size: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_DATASET_LAYOUT_INVALID',
    });
    await expect(importArchive(zipSync({ 'can/a.txt': red }), { size: 4 })).rejects.toMatchObject({
      code: 'MF_ERR_DATASET_EMPTY',
    });
  });
});

describe('importImageFolder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mf-datasets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports class folders and does not follow symbolic links', async () => {
    const root = join(dir, 'set');
    await mkdir(join(root, 'can'), { recursive: true });
    await mkdir(join(root, 'carton'), { recursive: true });
    await writeFile(join(root, 'can', 'a.png'), red);
    await writeFile(join(root, 'carton', 'b.jpg'), blue);
    await writeFile(join(root, 'carton', '.hidden.png'), red);
    await writeFile(join(dir, 'outside.png'), red);
    await symlink(join(dir, 'outside.png'), join(root, 'can', 'link.png'));
    const ds = await importImageFolder(root, { size: 6 });
    expect(ds.classNames).toEqual(['can', 'carton']);
    expect([...ds.labels]).toEqual([0, 1]);
    expectPixel(ds.images, 0, 6, [250, 10, 10]);
    await expect(importImageFolder(root, { size: 6, maxEntries: 3 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
    });
    await expect(importImageFolder(root, { size: 6, maxExpandedBytes: 10 })).rejects.toMatchObject({
      code: 'MF_ERR_ARCHIVE_TOO_LARGE',
    });
  });
});
