/**
 * A byte-wise rANS entropy coder over an alphabet of 256 symbols (Duda's asymmetric numeral systems,
 * in the 32-bit state / 8-bit renormalisation form). Written for quantized weights: after magnitude
 * pruning most symbols are the zero symbol, which rANS codes in well under one bit.
 *
 * Stream layout (all of it produced here; decoding is defensive because uploads are untrusted):
 *   u16 LE  n, the number of symbols with a non-zero frequency
 *   n x     (u8 symbol, u16 LE frequency), frequencies summing to 2^PROB_BITS
 *   bytes   the rANS stream: 4 bytes of final state (big-endian) then renormalisation bytes
 * The decoder checks that it ends in the encoder's initial state, which catches corrupt streams.
 */

const PROB_BITS = 12;
const PROB_SCALE = 1 << PROB_BITS;
const STATE_LOW = 1 << 23;

export class RansDecodeError extends Error {}

/** Scales symbol counts to frequencies summing to PROB_SCALE, every present symbol at least 1. Deterministic. */
function normaliseFrequencies(counts: Uint32Array, total: number): Uint16Array {
  const freqs = new Uint16Array(256);
  let sum = 0;
  for (let s = 0; s < 256; s++) {
    const c = counts[s]!;
    if (c === 0) continue;
    const f = Math.max(1, Math.floor((c * PROB_SCALE) / total));
    freqs[s] = f;
    sum += f;
  }
  // Settle the rounding error on the most frequent symbols (lowest symbol first on ties).
  while (sum !== PROB_SCALE) {
    let best = -1;
    for (let s = 0; s < 256; s++) {
      const f = freqs[s]!;
      if (f === 0) continue;
      if (sum > PROB_SCALE && f <= 1) continue;
      if (best < 0 || f > freqs[best]!) best = s;
    }
    if (best < 0) throw new Error('rANS: cannot normalise frequencies');
    const step = sum > PROB_SCALE ? -Math.min(sum - PROB_SCALE, freqs[best]! - 1) : PROB_SCALE - sum;
    freqs[best] = freqs[best]! + step;
    sum += step;
  }
  return freqs;
}

export function ransEncode(symbols: Uint8Array): Uint8Array {
  if (symbols.length === 0) return new Uint8Array(2);
  const counts = new Uint32Array(256);
  for (let i = 0; i < symbols.length; i++) counts[symbols[i]!]! += 1;
  const freqs = normaliseFrequencies(counts, symbols.length);
  const cumulative = new Uint32Array(257);
  for (let s = 0; s < 256; s++) cumulative[s + 1] = cumulative[s]! + freqs[s]!;

  // Renormalisation bytes are produced back to front; collect them and reverse once.
  const emitted: number[] = [];
  let x = STATE_LOW;
  for (let i = symbols.length - 1; i >= 0; i--) {
    const s = symbols[i]!;
    const f = freqs[s]!;
    const xMax = (STATE_LOW / PROB_SCALE) * 256 * f;
    while (x >= xMax) {
      emitted.push(x & 0xff);
      x = Math.floor(x / 256);
    }
    x = Math.floor(x / f) * PROB_SCALE + (x % f) + cumulative[s]!;
  }
  emitted.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);

  const present: number[] = [];
  for (let s = 0; s < 256; s++) if (freqs[s]! > 0) present.push(s);
  const header = 2 + present.length * 3;
  const out = new Uint8Array(header + emitted.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, present.length, true);
  present.forEach((s, k) => {
    out[2 + k * 3] = s;
    view.setUint16(3 + k * 3, freqs[s]!, true);
  });
  for (let k = 0; k < emitted.length; k++) out[header + k] = emitted[emitted.length - 1 - k]!;
  return out;
}

export function ransDecode(stream: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  if (stream.length < 2) throw new RansDecodeError('stream shorter than its header');
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const n = view.getUint16(0, true);
  if (count === 0) {
    if (n !== 0 || stream.length !== 2) throw new RansDecodeError('empty tensor with a non-empty stream');
    return out;
  }
  if (n === 0 || n > 256) throw new RansDecodeError(`bad symbol count ${n}`);
  const header = 2 + n * 3;
  if (stream.length < header + 4) throw new RansDecodeError('stream shorter than its frequency table');
  const freqs = new Uint16Array(256);
  const cumulative = new Uint32Array(256);
  const slotToSymbol = new Uint8Array(PROB_SCALE);
  let sum = 0;
  let previous = -1;
  for (let k = 0; k < n; k++) {
    const s = stream[2 + k * 3]!;
    const f = view.getUint16(3 + k * 3, true);
    if (s <= previous || f === 0 || sum + f > PROB_SCALE) throw new RansDecodeError('bad frequency table');
    previous = s;
    freqs[s] = f;
    cumulative[s] = sum;
    slotToSymbol.fill(s, sum, sum + f);
    sum += f;
  }
  if (sum !== PROB_SCALE) throw new RansDecodeError('frequencies do not sum to the scale');

  let position = header;
  let x =
    stream[position]! * 0x1000000 +
    stream[position + 1]! * 0x10000 +
    stream[position + 2]! * 0x100 +
    stream[position + 3]!;
  position += 4;
  const mask = PROB_SCALE - 1;
  for (let i = 0; i < count; i++) {
    const slot = x & mask;
    const s = slotToSymbol[slot]!;
    out[i] = s;
    x = freqs[s]! * Math.floor(x / PROB_SCALE) + slot - cumulative[s]!;
    while (x < STATE_LOW) {
      if (position >= stream.length) throw new RansDecodeError('stream ended early');
      x = x * 256 + stream[position++]!;
    }
  }
  if (x !== STATE_LOW || position !== stream.length)
    throw new RansDecodeError('stream does not end in the initial state');
  return out;
}
