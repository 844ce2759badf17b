import { encodeDelta } from '@modelfleet/delta';
import { type ModelArtifact, encodeBundle, packFloat32, sha256Hex } from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { fleetWireOf } from './fleet-wire.js';
import { resolveVariants } from './optimize-task.js';

/** A one-tensor artifact: a Dense layer with the given kernel values. */
function dense(values: number[]): ModelArtifact {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        {
          class_name: 'Dense',
          config: { name: 'fc', units: 4, use_bias: false, batch_input_shape: [null, values.length / 4] },
        },
      ],
    },
  };
  return {
    modelJson: { format: 'layers-model', modelTopology: topology },
    tensors: [packFloat32('fc/kernel', [values.length / 4, 4], Float32Array.from(values))],
  };
}

describe('fleet wire bytes', () => {
  const values = Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37) * 0.1);
  const old = encodeBundle(dense(values));
  const near = encodeBundle(dense(values.map((v, i) => (i % 64 === 0 ? v + 0.01 : v))));
  const far = encodeBundle(dense(values.map((v, i) => Math.cos(i * 1.91) * 0.1)));

  it('weights each source by its devices, caps a delta at the full wire size, and counts the rest in full', () => {
    const candidate = { bundle: near, bundleSha256: sha256Hex(near), wireBytes: 5000 };
    const fleet = fleetWireOf(
      {
        basis: 'devices',
        sources: [
          { artifactSha256: sha256Hex(old), devices: 3, bundle: old },
          { artifactSha256: sha256Hex(far), devices: 2, bundle: far },
          { artifactSha256: sha256Hex(near), devices: 4, bundle: near },
        ],
        uncountedDevices: 1,
      },
      candidate,
    );
    const fromOld = encodeDelta(old, near).bytes.length;
    const fromFar = encodeDelta(far, near).bytes.length;
    expect(fromOld).toBeLessThan(candidate.wireBytes);
    expect(fromFar).toBeGreaterThan(candidate.wireBytes); // a delta that does not help: the full file is sent
    expect(fleet.deltaBytes).toEqual({
      [sha256Hex(old)]: fromOld,
      [sha256Hex(far)]: fromFar,
      [sha256Hex(near)]: 0, // those devices run it already
    });
    expect(fleet.sources.map((s) => s.sentBytes)).toEqual([fromOld, candidate.wireBytes, 0]);
    expect(fleet.fleetWireBytes).toBe(3 * fromOld + 2 * candidate.wireBytes + 4 * 0 + 1 * candidate.wireBytes);
    expect(fleet.fullWireBytes).toBe(10 * candidate.wireBytes);
  });

  it('counts devices whose artifact no delta can start from at the full wire size, and says why', () => {
    const garbage = new Uint8Array([1, 2, 3, 4]);
    const candidate = { bundle: near, bundleSha256: sha256Hex(near), wireBytes: 5000 };
    const fleet = fleetWireOf(
      {
        basis: 'devices',
        sources: [{ artifactSha256: sha256Hex(garbage), devices: 2, bundle: garbage }],
        uncountedDevices: 0,
      },
      candidate,
    );
    expect(fleet.sources[0]).toMatchObject({ deltaBytes: null, sentBytes: 5000, error: expect.any(String) });
    expect(fleet.deltaBytes).toEqual({});
    expect(fleet.fleetWireBytes).toBe(10_000);
  });
});

describe('variants of a policy', () => {
  const previous = { number: 3, artifact: dense(Array.from({ length: 64 }, (_, i) => i / 64)) };

  it('adds the +reuse twin of theta1 and int8-per-channel when there is a release to reuse', () => {
    const ids = (r: ReturnType<typeof resolveVariants>) => r.variants.map((v) => v.id);
    const withRelease = resolveVariants({ variants: ['theta1', 'theta4', 'int8-per-channel'] }, previous);
    expect(ids(withRelease)).toEqual([
      'theta1',
      'theta4',
      'int8-per-channel',
      'theta1+reuse',
      'int8-per-channel+reuse',
    ]);
    expect(withRelease.skipped).toEqual([]);
    const none = resolveVariants({ variants: ['theta1', 'theta4', 'int8-per-channel'] }, undefined);
    expect(ids(none)).toEqual(['theta1', 'theta4', 'int8-per-channel']);
    expect(none.skipped.map((s) => s.variant)).toEqual(['theta1+reuse', 'int8-per-channel+reuse']);
    // disabled: no twins, but a +reuse variant the policy lists itself is still built
    const off = resolveVariants(
      {
        variants: ['theta1', 'int8-per-channel+reuse'],
        deltaFriendly: { enabled: false, clipFraction: 0, maxErrorRatio: 2, keepWithinSteps: 0 },
      },
      previous,
    );
    expect(ids(off)).toEqual(['theta1', 'int8-per-channel+reuse']);
  });

  it('hands the policy tolerances to the quantizer', () => {
    const { variants } = resolveVariants(
      {
        variants: ['int8-per-channel'],
        deltaFriendly: { enabled: true, clipFraction: 0.01, maxErrorRatio: 3, keepWithinSteps: 0.5 },
      },
      previous,
    );
    const out = variants[1]!.transform(previous.artifact, {});
    expect(out.modelJson.modelfleet?.['deltaReuse']).toMatchObject({
      clipFraction: 0.01,
      maxErrorRatio: 3,
      keepWithinSteps: 0.5,
    });
  });
});
