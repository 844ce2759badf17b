import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_EXPANSION_RATIO,
  EXPANSION_FLOOR_BYTES,
  isHiddenPath,
  safeSegments,
  unpackArchive,
} from './index.js';

const text = (value: string) => new TextEncoder().encode(value);
const acceptAll = { maxEntries: 100, maxExpandedBytes: 1 << 20, accept: () => true };

async function tarGz(
  entries: { name: string; body?: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string }[],
): Promise<Uint8Array> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.type === 'symlink')
      pack.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname ?? '/etc/passwd' });
    else if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory' });
    else pack.entry({ name: entry.name }, entry.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

describe('safeSegments', () => {
  it('splits relative paths and drops empty and dot segments', () => {
    expect(safeSegments('a/./b//c.png')).toEqual(['a', 'b', 'c.png']);
    expect(safeSegments('a\\b')).toEqual(['a', 'b']);
  });
  it.each(['/etc/passwd', '../x', 'a/../../x', 'C:\\x', 'a\0b', '\\\\host\\share'])('refuses %j', (name) => {
    expect(() => safeSegments(name)).toThrow(expect.objectContaining({ code: 'MF_ERR_ARCHIVE_UNSAFE_PATH' }));
  });
  it('knows hidden files and resource forks', () => {
    expect(isHiddenPath(['__MACOSX', 'a'])).toBe(true);
    expect(isHiddenPath(['dir', '.DS_Store'])).toBe(true);
    expect(isHiddenPath(['dir', 'model.json'])).toBe(false);
  });
});

describe('unpackArchive', () => {
  it('reads a zip and a tar.gz to the same entries, keeping only accepted files', async () => {
    const files = { 'm/model.json': '{"a":1}', 'm/group1-shard1of1.bin': 'weights', 'm/.hidden': 'x' };
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, body]) => [name, text(body)])));
    const gz = await tarGz([
      { name: 'm/', type: 'directory' },
      ...Object.entries(files).map(([name, body]) => ({ name, body })),
    ]);
    const options = { ...acceptAll, accept: (segments: readonly string[]) => !isHiddenPath(segments) };
    for (const archive of [zip, gz]) {
      const entries = await unpackArchive(archive, options);
      const byPath = Object.fromEntries(entries.map((entry) => [entry.path, new TextDecoder().decode(entry.bytes)]));
      expect(byPath).toEqual({ 'm/model.json': '{"a":1}', 'm/group1-shard1of1.bin': 'weights' });
    }
  });

  it('refuses a path that climbs out, in either format', async () => {
    const code = expect.objectContaining({ code: 'MF_ERR_ARCHIVE_UNSAFE_PATH' });
    await expect(unpackArchive(zipSync({ '../evil': text('x') }), acceptAll)).rejects.toThrow(code);
    await expect(unpackArchive(await tarGz([{ name: '../evil', body: 'x' }]), acceptAll)).rejects.toThrow(code);
  });

  it('refuses a drive letter behind dot segments and a colon in any segment, in either format', async () => {
    const code = expect.objectContaining({ code: 'MF_ERR_ARCHIVE_UNSAFE_PATH' });
    for (const name of ['.\\C:\\.', './C:/model.json', 'm/model.json:stream']) {
      await expect(unpackArchive(zipSync({ [name]: text('x') }), acceptAll)).rejects.toThrow(code);
      await expect(unpackArchive(await tarGz([{ name, body: 'x' }]), acceptAll)).rejects.toThrow(code);
    }
  });

  it('refuses links in a tar', async () => {
    await expect(unpackArchive(await tarGz([{ name: 'link', type: 'symlink' }]), acceptAll)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_INVALID' }),
    );
  });

  it('bounds the entry count and the expanded bytes (a highly compressible bomb included)', async () => {
    const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, text('x')]));
    await expect(unpackArchive(zipSync(many), { ...acceptAll, maxEntries: 10 })).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES' }),
    );
    const bomb = new Uint8Array(8 << 20); // 8 MiB of zeros compresses to a few KiB
    const limits = { ...acceptAll, maxExpandedBytes: 1 << 20 };
    await expect(unpackArchive(zipSync({ bomb }), limits)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_TOO_LARGE' }),
    );
    const tarBomb = await tarGz([{ name: 'bomb', body: '\0'.repeat(8 << 20) }]);
    expect(tarBomb.length).toBeLessThan(64 * 1024);
    await expect(unpackArchive(tarBomb, limits)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_TOO_LARGE' }),
    );
  });

  it('refuses bytes that are neither zip nor gzip, and a corrupt gzip', async () => {
    await expect(unpackArchive(text('plain text'), acceptAll)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_INVALID' }),
    );
    const broken = (await tarGz([{ name: 'a', body: 'hello' }])).slice(0, 20);
    await expect(unpackArchive(broken, acceptAll)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_INVALID' }),
    );
  });

  // Found by unpack-fuzz.test.ts: a tar file entry named "\0/A" (tar names end at NUL) named nothing and
  // came back as a file with the empty path, i.e. the target folder itself.
  it('refuses a file entry whose name names nothing below the root, in either format', async () => {
    const code = expect.objectContaining({ code: 'MF_ERR_ARCHIVE_UNSAFE_PATH' });
    await expect(unpackArchive(await tarGz([{ name: '\0/A', body: 'x' }]), acceptAll)).rejects.toThrow(code);
    await expect(unpackArchive(await tarGz([{ name: './', body: 'x' }]), acceptAll)).rejects.toThrow(code);
    await expect(unpackArchive(zipSync({ '.': text('x') }), acceptAll)).rejects.toThrow(code);
    // A folder entry "./" (tar writes one first) is still fine.
    const entries = await unpackArchive(
      await tarGz([
        { name: './', type: 'directory' },
        { name: './a.txt', body: 'x' },
      ]),
      acceptAll,
    );
    expect(entries.map((entry) => entry.path)).toEqual(['a.txt']);
  });

  // Found by unpack-fuzz.test.ts: fflate's errors carry numeric codes, and the check for our own errors
  // called .startsWith on them — a TypeError escaped instead of MF_ERR_ARCHIVE_INVALID.
  it('refuses a bare zip signature with MF_ERR_ARCHIVE_INVALID, not a TypeError', async () => {
    await expect(unpackArchive(new Uint8Array([0x50, 0x4b, 0x03, 0x04]), acceptAll)).rejects.toThrow(
      expect.objectContaining({ code: 'MF_ERR_ARCHIVE_INVALID' }),
    );
  });

  it('bounds the expansion ratio past a floor: a small archive may not claim far more than its size', async () => {
    const roomy = { ...acceptAll, maxExpandedBytes: 1 << 30 };
    const zeros = new Uint8Array(EXPANSION_FLOOR_BYTES + 1024); // ~16 MiB of zeros: a few KiB compressed
    const tarBomb = await tarGz([{ name: 'bomb', body: '\0'.repeat(zeros.length) }]);
    expect(zeros.length / tarBomb.length).toBeGreaterThan(DEFAULT_MAX_EXPANSION_RATIO);
    const zipBomb = zipSync({ bomb: zeros });
    const tooLarge = expect.objectContaining({ code: 'MF_ERR_ARCHIVE_TOO_LARGE' });
    await expect(unpackArchive(zipBomb, roomy)).rejects.toThrow(tooLarge);
    await expect(unpackArchive(tarBomb, roomy)).rejects.toThrow(tooLarge);
    // The same bytes pass when the caller allows that ratio, and below the floor the ratio is not checked.
    const entries = await unpackArchive(zipBomb, { ...roomy, maxExpansionRatio: 1e6 });
    expect(entries[0]!.bytes.length).toBe(zeros.length);
    expect(await unpackArchive(zipSync({ small: new Uint8Array(1 << 20) }), roomy)).toHaveLength(1);
  }, 60_000);
});
