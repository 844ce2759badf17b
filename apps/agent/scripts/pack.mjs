// Packs the agent on its own: one ESM file (esbuild) plus tfjs-backend-wasm's .wasm binaries in dist/, and
// measures the install footprint both ways — the bundle, and the agent as source with its production
// dependency tree (what `npm pack` of the agent and its workspace dependencies would install).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
await fs.rm(dist, { recursive: true, force: true });
await fs.mkdir(dist, { recursive: true });

await build({
  entryPoints: { 'modelfleet-agent': path.join(root, 'src/main.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  // TF.js goes into a chunk of its own, loaded (dynamic import) only by the smoke-test child process: the
  // daemon between polls never parses it (idle RSS, see the README).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  // CommonJS inside the bundle (TF.js, emscripten glue) calls require() and reads __dirname.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __mfCreateRequire } from 'node:module';",
      "import { fileURLToPath as __mfFileURLToPath } from 'node:url';",
      "import { dirname as __mfDirname } from 'node:path';",
      'const require = __mfCreateRequire(import.meta.url);',
      'const __filename = __mfFileURLToPath(import.meta.url);',
      'const __dirname = __mfDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
await fs.chmod(path.join(dist, 'modelfleet-agent.mjs'), 0o755);

const require = createRequire(path.join(root, 'package.json'));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
// The threaded build is never chosen in Node (tfjs-backend-wasm 4.22 disables threads when IS_NODE).
for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
  await fs.copyFile(path.join(wasmDir, name), path.join(dist, name));

async function folderBytes(folder, seen = new Set()) {
  const real = await fs.realpath(folder);
  if (seen.has(real)) return 0;
  seen.add(real);
  let total = 0;
  for (const entry of await fs.readdir(real, { withFileTypes: true })) {
    const full = path.join(real, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue; // nested deps are counted through the dependency walk
      total += await folderBytes(full, seen);
    } else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}

/** The production dependency closure, resolved the way Node resolves it from each package. */
async function productionTree(packageDir, packages = new Map()) {
  const real = await fs.realpath(packageDir);
  if (packages.has(real)) return packages;
  const manifest = JSON.parse(await fs.readFile(path.join(real, 'package.json'), 'utf8'));
  packages.set(real, manifest.name);
  const requireHere = createRequire(path.join(real, 'package.json'));
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    let dir;
    try {
      dir = path.dirname(requireHere.resolve(`${name}/package.json`));
    } catch {
      // packages whose exports map hides package.json: find the folder on the resolution paths
      for (const base of requireHere.resolve.paths(name) ?? []) {
        const candidate = path.join(base, name);
        if (
          await fs.stat(path.join(candidate, 'package.json')).then(
            () => true,
            () => false,
          )
        ) {
          dir = candidate;
          break;
        }
      }
    }
    if (dir !== undefined) await productionTree(dir, packages);
  }
  return packages;
}

const bundleBytes = await folderBytes(dist);
const tree = await productionTree(root);
const seen = new Set();
let treeBytes = 0;
const perPackage = [];
for (const [dir, name] of tree) {
  const bytes = await folderBytes(dir, seen);
  treeBytes += bytes;
  perPackage.push({ name, bytes });
}
perPackage.sort((a, b) => b.bytes - a.bytes);
const report = {
  bundle: { files: await fs.readdir(dist), bytes: bundleBytes },
  sourceInstall: { packages: tree.size, bytes: treeBytes, largest: perPackage.slice(0, 8) },
  forbiddenInTree: [...tree.values()].filter((name) =>
    /prisma|pglite|fastify|bullmq|ioredis|pg$|@modelfleet\/(db|jobs|server|storage|pipeline)/.test(name),
  ),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
