import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import fc from 'fast-check';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { unpackArchive, type ArchiveEntry, type UnpackOptions } from './index.js';

/**
 * Hostile archives, generated: whatever the bytes, unpackArchive either returns entries whose paths stay
 * inside any folder they are written to, or rejects with one of the archive package's own codes — never
 * a TypeError, never a write outside the target, never more than the limits, never a hang (each case has
 * its own time limit).
 */

const LIMITS: UnpackOptions = { maxEntries: 64, maxExpandedBytes: 256 * 1024, accept: () => true };
const ARCHIVE_CODES = [
  'MF_ERR_ARCHIVE_INVALID',
  'MF_ERR_ARCHIVE_UNSAFE_PATH',
  'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
  'MF_ERR_ARCHIVE_TOO_LARGE',
];
/** Per case: a slow case (a bomb inflated, a quadratic scan) fails the property, not just the suite. */
const PER_CASE = { timeout: 5_000, numRuns: 150 };
const TARGET = path.resolve('/srv/modelfleet/upload-target');

function assertContained(entries: readonly ArchiveEntry[], options: UnpackOptions = LIMITS): void {
  let total = 0;
  expect(entries.length).toBeLessThanOrEqual(options.maxEntries);
  for (const entry of entries) {
    const written = path.resolve(TARGET, entry.path);
    expect(written.startsWith(TARGET + path.sep), entry.path).toBe(true);
    expect(entry.path.split('/')).not.toContain('..');
    expect(entry.path).not.toMatch(/^[/\\]|^[A-Za-z]:|\0/);
    total += entry.bytes.length;
  }
  expect(total).toBeLessThanOrEqual(options.maxExpandedBytes);
}

/** Runs an unpack and checks the outcome: contained entries, or one of our codes. */
async function outcome(bytes: Uint8Array, options: UnpackOptions = LIMITS): Promise<string> {
  try {
    assertContained(await unpackArchive(bytes, options), options);
    return 'ok';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === undefined || !ARCHIVE_CODES.includes(code)) throw error;
    return code;
  }
}

/** Entry names an attacker would try: climbing, absolute, drive letters, UNC, NUL, odd separators. */
const segment = fc.oneof(
  fc.constantFrom('..', '.', '', '...', '..\\..', 'C:', 'c:\\', '\\\\host', '\0', '%2e%2e', '\u2025', '~'),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
);
const hostileName = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/')),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('\\')),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  fc.string({ maxLength: 40 }),
);
const body = fc.uint8Array({ maxLength: 256 });

async function tarGz(
  entries: { name: string; type: 'file' | 'symlink' | 'link' | 'directory'; linkname: string; body: Uint8Array }[],
): Promise<Uint8Array> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.type === 'file') pack.entry({ name: entry.name }, Buffer.from(entry.body));
    else if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory' });
    else pack.entry({ name: entry.name, type: entry.type, linkname: entry.linkname });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** Sets the uncompressed size every central-directory record of a zip declares (what fflate trusts). */
function declareUncompressedSize(zip: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(zip);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 46 <= out.length; i++) {
    if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, size >>> 0, true);
    if (view.getUint32(i, true) === 0x04034b50) view.setUint32(i + 22, size >>> 0, true);
  }
  return out;
}

describe('unpackArchive against generated hostile archives', () => {
  it('zip: any entry names — contained paths or MF_ERR_ARCHIVE_UNSAFE_PATH', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(hostileName, body, { minKeys: 1, maxKeys: 6 }), async (files) => {
        let zip: Uint8Array;
        try {
          zip = zipSync(files);
        } catch {
          return; // names fflate itself cannot encode are not an archive anyone can send
        }
        const result = await outcome(zip);
        expect(['ok', 'MF_ERR_ARCHIVE_UNSAFE_PATH', 'MF_ERR_ARCHIVE_INVALID']).toContain(result);
      }),
      PER_CASE,
    );
  }, 60_000);

  it('tar.gz: any names, links and folders — contained regular files only, links refused', async () => {
    const entry = fc.record({
      name: hostileName.filter((name) => name.length > 0 && Buffer.byteLength(name) < 100),
      type: fc.constantFrom('file', 'file', 'symlink', 'link', 'directory') as fc.Arbitrary<
        'file' | 'symlink' | 'link' | 'directory'
      >,
      linkname: fc.constantFrom('/etc/passwd', '../../outside', 'sibling', 'C:\\Windows'),
      body,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
        const result = await outcome(await tarGz(entries));
        if (entries.some((e) => e.type === 'symlink' || e.type === 'link')) expect(result).not.toBe('ok');
      }),
      PER_CASE,
    );
  }, 60_000);

  it('random and corrupted bytes (zip and gzip magic in front, flipped bytes, truncation) give our codes only', async () => {
    const valid = [
      zipSync({ 'm/model.json': new TextEncoder().encode('{"a":1}'), 'm/w.bin': new Uint8Array(300).fill(7) }),
      await tarGz([{ name: 'm/model.json', type: 'file', linkname: '', body: new Uint8Array(200).fill(1) }]),
    ];
    const corrupted = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
      )
      .map(([archive, flips, cut]) => {
        const bytes = new Uint8Array(archive);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        return cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1));
      });
    const prefixed = fc
      .tuple(fc.constantFrom([0x50, 0x4b, 0x03, 0x04], [0x1f, 0x8b], []), fc.uint8Array({ maxLength: 512 }))
      .map(([magic, rest]) => new Uint8Array([...magic, ...rest]));
    await fc.assert(
      fc.asyncProperty(fc.oneof(corrupted, prefixed), async (bytes) => {
        await outcome(bytes);
      }),
      { ...PER_CASE, numRuns: 400 },
    );
  }, 60_000);

  it('bombs and lying sizes: refused with MF_ERR_ARCHIVE_TOO_LARGE before the bytes are inflated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 300 * 1024, max: 4 * 1024 * 1024 }),
        fc.constantFrom(0, 1, 1024, 0xffffffff, 0x7fffffff),
        fc.boolean(),
        async (size, declared, asZip) => {
          const zeros = new Uint8Array(size);
          const archive = asZip
            ? declareUncompressedSize(zipSync({ bomb: zeros }), declared)
            : await tarGz([{ name: 'bomb', type: 'file', linkname: '', body: zeros }]);
          const result = await outcome(archive);
          // A zip whose header understates the size inflates no further than it declares: never 'ok' with
          // more than the limit (outcome checks), and a true size past the limit is never accepted whole.
          if (!asZip || declared >= LIMITS.maxExpandedBytes) expect(result).toBe('MF_ERR_ARCHIVE_TOO_LARGE');
          else expect(['ok', 'MF_ERR_ARCHIVE_INVALID', 'MF_ERR_ARCHIVE_TOO_LARGE']).toContain(result);
        },
      ),
      { ...PER_CASE, numRuns: 30 },
    );
  }, 120_000);

  it('many entries: refused with MF_ERR_ARCHIVE_TOO_MANY_ENTRIES, whatever the mix of folders and files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 65, max: 400 }), fc.boolean(), async (count, asZip) => {
        const names = Array.from({ length: count }, (_, i) => `d${i % 7}/f${i}`);
        const archive = asZip
          ? zipSync(Object.fromEntries(names.map((name) => [name, new Uint8Array(1)])))
          : await tarGz(names.map((name) => ({ name, type: 'file', linkname: '', body: new Uint8Array(1) })));
        expect(await outcome(archive)).toBe('MF_ERR_ARCHIVE_TOO_MANY_ENTRIES');
      }),
      { ...PER_CASE, numRuns: 20 },
    );
  }, 120_000);
});
