/**
 * How a tensor's bytes split into segments of one element type each (shared by encoder and tests):
 * stock encodings are one segment; ours put their float32 parameters (scales, centroids) first.
 */
import { type Encoding, type TensorRecord, channelCount } from '@modelfleet/model-format';
import { ELEMENT, type ElementKind } from './transforms.js';

export interface SegmentLayout {
  readonly kind: ElementKind;
  readonly length: number;
}

export function segmentsOf(t: TensorRecord): SegmentLayout[] {
  const all = t.bytes.length;
  const e: Encoding = t.encoding;
  const split = (head: number, rest: ElementKind): SegmentLayout[] =>
    head > 0 && head <= all
      ? [
          { kind: ELEMENT.f32, length: head },
          { kind: rest, length: all - head },
        ]
      : [{ kind: ELEMENT.u8, length: all }];
  switch (e.kind) {
    case 'float32':
      return [{ kind: ELEMENT.f32, length: all }];
    case 'int32':
      return [{ kind: ELEMENT.i32, length: all }];
    case 'float16':
      return [{ kind: ELEMENT.f16, length: all }];
    case 'affine':
      return [{ kind: e.bits === 8 ? ELEMENT.u8 : ELEMENT.u16, length: all }];
    case 'int8-per-channel':
      return split(4 * channelCount(t.shape, e.axis), ELEMENT.i8);
    case 'sparse-rans':
      return split(4 * channelCount(t.shape, e.axis), ELEMENT.u8);
    case 'palette':
      return split(4 * 2 ** e.bits, ELEMENT.u8);
  }
}
