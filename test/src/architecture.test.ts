import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/processes.js';

interface Workspace {
  name: string;
  dir: string;
  dependencies: string[];
  devDependencies: string[];
}

function workspaces(): Workspace[] {
  const found: Workspace[] = [];
  for (const group of ['apps', 'packages']) {
    for (const entry of fs.readdirSync(path.join(repoRoot, group))) {
      const file = path.join(repoRoot, group, entry, 'package.json');
      if (!fs.existsSync(file)) continue;
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      found.push({
        name: manifest.name,
        dir: path.join(repoRoot, group, entry),
        dependencies: Object.keys(manifest.dependencies ?? {}),
        devDependencies: Object.keys(manifest.devDependencies ?? {}),
      });
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts)$/.test(entry.name)) out.push(full);
  }
  return out;
}

const all = workspaces();
const byName = new Map(all.map((workspace) => [workspace.name, workspace]));

/** Every package reachable through production dependencies, npm packages included. */
function productionClosure(name: string, seen = new Set<string>()): Set<string> {
  for (const dependency of byName.get(name)?.dependencies ?? []) {
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    if (byName.has(dependency)) productionClosure(dependency, seen);
  }
  return seen;
}

describe('package architecture', () => {
  it('has no dependency cycles between workspace packages', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (name: string, trail: string[]) => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(name)), name].join(' -> '));
        return;
      }
      state.set(name, 'visiting');
      for (const dependency of byName.get(name)?.dependencies ?? []) {
        if (byName.has(dependency)) visit(dependency, [...trail, name]);
      }
      state.set(name, 'done');
    };
    for (const workspace of all) visit(workspace.name, []);
    expect(cycles).toEqual([]);
  });

  it('imports only the workspace packages each package declares', () => {
    const undeclared: string[] = [];
    for (const workspace of all) {
      const declared = new Set([...workspace.dependencies, ...workspace.devDependencies, workspace.name]);
      for (const file of sourceFiles(workspace.dir)) {
        const text = fs.readFileSync(file, 'utf8');
        for (const match of text.matchAll(/from '(@modelfleet\/[a-z-]+)/g)) {
          if (!declared.has(match[1]!)) undeclared.push(`${path.relative(repoRoot, file)} imports ${match[1]}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('keeps the model engine free of the server, the database and the queue', () => {
    const forbidden = [
      '@modelfleet/server',
      '@modelfleet/db',
      '@modelfleet/jobs',
      'fastify',
      'bullmq',
      '@prisma/client',
    ];
    for (const engine of [
      '@modelfleet/model-format',
      '@modelfleet/quantize',
      '@modelfleet/evaluate',
      '@modelfleet/datasets',
    ]) {
      const closure = productionClosure(engine);
      expect(
        forbidden.filter((name) => closure.has(name)),
        engine,
      ).toEqual([]);
    }
  });

  it('keeps the device agent light: no server, database or queue packages in its dependency tree', () => {
    expect(byName.has('@modelfleet/agent')).toBe(true);
    const closure = productionClosure('@modelfleet/agent');
    const forbidden = [
      '@modelfleet/server',
      '@modelfleet/db',
      '@modelfleet/jobs',
      '@modelfleet/storage',
      'fastify',
      'bullmq',
      'ioredis',
      '@prisma/client',
      'pg',
    ];
    expect(forbidden.filter((name) => closure.has(name))).toEqual([]);
  });
});
