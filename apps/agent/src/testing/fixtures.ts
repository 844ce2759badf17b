/**
 * Test support (not part of the agent at run time): signed poll answers and model bundles made the way the
 * server makes them, so unit tests and end-to-end tests can serve valid, tampered, old or expired releases.
 */
import type { Preprocessing, ReleaseManifest, UpdateAnswer, UpdateOffer } from '@modelfleet/contracts';
import { SIGNED_KINDS } from '@modelfleet/contracts';
import { loadDemoModelFiles, readDemoManifest } from '@modelfleet/demo-models';
import { encodeBundle, packFloat32, readArtifact, sha256Hex, type ModelArtifact } from '@modelfleet/model-format';
import { signEnvelope, type SigningKey } from '@modelfleet/signing';

export interface TestBundle {
  bytes: Uint8Array;
  sha256: string;
  size: number;
  preprocessing: Preprocessing;
}

export function demoPreprocessing(): Preprocessing {
  const manifest = readDemoManifest();
  return {
    inputSize: [manifest.inputShape[0], manifest.inputShape[1]],
    scale: manifest.preprocessing.scale,
    offset: manifest.preprocessing.offset,
    classNames: manifest.classNames,
  };
}

function bundleOf(artifact: ModelArtifact, preprocessing: Preprocessing): TestBundle {
  const bytes = encodeBundle(artifact);
  return { bytes, sha256: sha256Hex(bytes), size: bytes.length, preprocessing };
}

export type DemoVariant = 'base' | 'finetune' | 'head';

/** A demo model (MobileNet-v1 0.25, 64x64, 5 classes) as the canonical bundle a release names. */
export function demoBundle(variant: DemoVariant = 'base'): TestBundle {
  const name = variant === 'base' ? 'mobilenet-v1-025-64' : (`mobilenet-v1-025-64-${variant}` as const);
  return bundleOf(readArtifact(loadDemoModelFiles(name)), demoPreprocessing());
}

/**
 * A model that decodes and loads but outputs NaN: the classifier's kernel holds +-3e38 (finite, as upload
 * validation requires), so the logits overflow to +-Infinity and softmax computes Infinity - Infinity.
 */
export function nanBundle(): TestBundle {
  const artifact = readArtifact(loadDemoModelFiles('mobilenet-v1-025-64'));
  const tensors = artifact.tensors.map((t) =>
    t.name === 'predictions/kernel'
      ? packFloat32(
          t.name,
          t.shape,
          Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 2 === 0 ? 3e38 : -3e38)),
        )
      : t,
  );
  return bundleOf({ ...artifact, tensors }, demoPreprocessing());
}

/** The demo model under a line that claims more classes than it outputs (wrong output shape). */
export function wrongShapeBundle(): TestBundle {
  const bundle = demoBundle('base');
  return {
    ...bundle,
    preprocessing: { ...bundle.preprocessing, classNames: [...bundle.preprocessing.classNames, 'extra'] },
  };
}

export interface AnswerOptions {
  key: SigningKey;
  bundle: TestBundle;
  release: number;
  line?: string;
  channel?: string;
  pollAfterSeconds?: number;
  now?: Date;
  /** Seconds the offer stays valid (negative: already expired). */
  validForSeconds?: number;
  /** Sign the manifest with this key instead (a bad signature for the device). */
  manifestKey?: SigningKey;
  offerKey?: SigningKey;
  /** The offer's delta slot (issue 6); see `deltaSlot`. */
  delta?: UpdateOffer['delta'];
  tamperOffer?: (offer: UpdateOffer) => UpdateOffer;
  tamperManifest?: (manifest: ReleaseManifest) => ReleaseManifest;
}

export function signedAnswer(options: AnswerOptions): UpdateAnswer {
  const now = options.now ?? new Date();
  const line = options.line ?? 'sorter';
  const channel = options.channel ?? 'stable';
  let manifest: ReleaseManifest = {
    schema: 'modelfleet.release/v1',
    line,
    channel,
    release: options.release,
    artifact: { sha256: options.bundle.sha256, size: options.bundle.size, encoding: 'float32', variant: 'theta0' },
    preprocessing: options.bundle.preprocessing,
    createdAt: now.toISOString(),
  };
  let offer: UpdateOffer = {
    schema: 'modelfleet.update/v1',
    line,
    channel,
    release: options.release,
    target: {
      sha256: options.bundle.sha256,
      size: options.bundle.size,
      encoding: 'float32',
      url: `/v1/blobs/${options.bundle.sha256}`,
    },
    delta: options.delta ?? null,
    preprocessing: options.bundle.preprocessing,
    pollAfterSeconds: options.pollAfterSeconds ?? 1,
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (options.validForSeconds ?? 3600) * 1000).toISOString(),
  };
  if (options.tamperManifest) manifest = options.tamperManifest(manifest);
  if (options.tamperOffer) offer = options.tamperOffer(offer);
  return {
    offer: signEnvelope(SIGNED_KINDS.updateOffer, offer, options.offerKey ?? options.key),
    releaseManifest: signEnvelope(SIGNED_KINDS.releaseManifest, manifest, options.manifestKey ?? options.key),
  };
}

/** The delta slot of an offer for delta bytes served at /v1/blobs/<sha256 of the bytes>. */
export function deltaSlot(from: string, bytes: Uint8Array, format = 'mfdelta/1'): NonNullable<UpdateOffer['delta']> {
  const sha256 = sha256Hex(bytes);
  return { from, sha256, size: bytes.length, format, url: `/v1/blobs/${sha256}` };
}
