import { OptimizationPolicy } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import { Value } from 'typebox/value';
import { LineNotFound } from './errors.js';

/** A policy with every default filled in: what the line stores, so later default changes do not move it. */
export function completePolicy(partial: Partial<OptimizationPolicy> | undefined): OptimizationPolicy {
  return Value.Parse(OptimizationPolicy, Value.Default(OptimizationPolicy, structuredClone(partial ?? {})));
}

export async function findLineOrThrow(db: Database, name: string) {
  const line = await db.prisma.modelLine.findUnique({ where: { name } });
  if (line === null) throw new LineNotFound(name);
  return line;
}
