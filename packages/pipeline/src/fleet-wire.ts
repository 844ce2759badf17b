/**
 * What moving the fleet to a candidate costs on the wire: for each distinct artifact the channel's
 * devices run (weighted by how many run it), the size of a delta from it to the candidate's bundle,
 * capped at the candidate's full wire size (a device gets the full file when the delta does not help).
 * Pure and synchronous: the optimize task runs it in its worker thread.
 */
import { encodeDelta } from '@modelfleet/delta';

/** One artifact the fleet runs: its bundle and how many devices run it. */
export interface FleetSource {
  artifactSha256: string;
  /** Devices that run it (1 when the source is the channel's latest release and no device reports). */
  devices: number;
  bundle: Uint8Array;
}

export interface FleetBasis {
  /** `devices`: what the channel's devices report running; `latest-release`: none reports, the channel's newest release. */
  basis: 'devices' | 'latest-release';
  sources: FleetSource[];
  /** Devices counted at the full wire size: their artifact is not among `sources` (missing blob, or beyond the sources measured). */
  uncountedDevices: number;
}

export interface CandidateFleetWire {
  basis: FleetBasis['basis'];
  /** Delta size from each source artifact (sha256) to the candidate; 0 when the device already runs it. */
  deltaBytes: Record<string, number>;
  /** Per source: devices and the bytes each is sent, min(delta, full wire size). */
  sources: {
    artifactSha256: string;
    devices: number;
    /** null when no delta could be encoded from that artifact (`error` says why; the full file is sent). */
    deltaBytes: number | null;
    sentBytes: number;
    error?: string;
  }[];
  uncountedDevices: number;
  /** Sum over devices of the bytes sent to move them to the candidate. */
  fleetWireBytes: number;
  /** The same fleet downloading the full artifact. */
  fullWireBytes: number;
}

export function fleetWireOf(
  fleet: FleetBasis,
  candidate: { bundle: Uint8Array; bundleSha256: string; wireBytes: number },
): CandidateFleetWire {
  const deltaBytes: Record<string, number> = {};
  const sources = fleet.sources.map((source) => {
    let delta: number;
    try {
      delta =
        source.artifactSha256 === candidate.bundleSha256
          ? 0
          : encodeDelta(source.bundle, candidate.bundle).bytes.length;
    } catch (error) {
      // an installed artifact the encoder cannot read (not a bundle of this format): those devices
      // get the full file, and the candidate is measured all the same
      return {
        artifactSha256: source.artifactSha256,
        devices: source.devices,
        deltaBytes: null,
        sentBytes: candidate.wireBytes,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    deltaBytes[source.artifactSha256] = delta;
    return {
      artifactSha256: source.artifactSha256,
      devices: source.devices,
      deltaBytes: delta,
      sentBytes: Math.min(delta, candidate.wireBytes),
    };
  });
  const devices = fleet.sources.reduce((sum, source) => sum + source.devices, 0) + fleet.uncountedDevices;
  return {
    basis: fleet.basis,
    deltaBytes,
    sources,
    uncountedDevices: fleet.uncountedDevices,
    fleetWireBytes:
      sources.reduce((sum, source) => sum + source.devices * source.sentBytes, 0) +
      fleet.uncountedDevices * candidate.wireBytes,
    fullWireBytes: devices * candidate.wireBytes,
  };
}
