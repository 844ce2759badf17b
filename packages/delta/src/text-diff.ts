/**
 * Copy/add difference of one byte string against another, for model.json: successive releases share
 * almost all of it (the topology; only the weights manifest's quantization parameters and the
 * modelfleet metadata move), so the new model.json is mostly copies of runs of the old one.
 *
 * Instructions, repeated until the new length is reached:
 *   varint literal length | literal bytes | varint copy length | svarint (copy offset - end of previous copy)
 * Greedy matching on 12-byte anchors, preferring the continuation of the previous copy.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { DeltaCorrupt } from './errors.js';

const ANCHOR = 12;

function key(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + ANCHOR));
}

export function diffBytes(old: Uint8Array, next: Uint8Array): Uint8Array {
  const index = new Map<string, number>();
  const step = old.length > 1 << 20 ? 4 : 1;
  for (let at = 0; at + ANCHOR <= old.length; at += step) {
    const k = key(old, at);
    if (!index.has(k)) index.set(k, at);
  }
  const out = new ByteWriter();
  let literalStart = 0;
  let previousEnd = 0;
  let i = 0;
  const matches = (o: number, at: number): boolean => {
    if (o < 0 || o + ANCHOR > old.length) return false;
    for (let k = 0; k < ANCHOR; k++) if (old[o + k] !== next[at + k]) return false;
    return true;
  };
  while (i + ANCHOR <= next.length) {
    let o = matches(previousEnd, i) ? previousEnd : (index.get(key(next, i)) ?? -1);
    if (o < 0 || !matches(o, i)) {
      i++;
      continue;
    }
    let start = i;
    while (start > literalStart && o > 0 && next[start - 1] === old[o - 1]) {
      start--;
      o--;
    }
    let end = i + ANCHOR;
    let oldEnd = o + (end - start);
    while (end < next.length && oldEnd < old.length && next[end] === old[oldEnd]) {
      end++;
      oldEnd++;
    }
    out.varint(start - literalStart);
    out.bytes(next.subarray(literalStart, start));
    out.varint(end - start);
    out.svarint(o - previousEnd);
    previousEnd = oldEnd;
    literalStart = end;
    i = end;
  }
  if (literalStart < next.length) {
    out.varint(next.length - literalStart);
    out.bytes(next.subarray(literalStart));
    out.varint(0);
    out.svarint(0);
  }
  return out.finish();
}

export function patchBytes(old: Uint8Array, instructions: Uint8Array, length: number): Uint8Array {
  const reader = new ByteReader(instructions, 'model.json difference');
  const out = new Uint8Array(length);
  let written = 0;
  let previousEnd = 0;
  while (written < length) {
    const literal = reader.varint();
    if (literal > length - written) throw new DeltaCorrupt('model.json difference overruns its length');
    out.set(reader.take(literal), written);
    written += literal;
    const copy = reader.varint();
    const from = previousEnd + reader.svarint();
    if (copy > length - written || from < 0 || from + copy > old.length)
      throw new DeltaCorrupt('model.json difference copies out of bounds');
    out.set(old.subarray(from, from + copy), written);
    written += copy;
    previousEnd = from + copy;
  }
  if (!reader.done) throw new DeltaCorrupt('model.json difference has trailing bytes');
  return out;
}
