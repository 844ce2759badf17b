/**
 * @modelfleet/releases — publishing: release numbers that only grow per line and channel, and manifests
 * signed with the server's ed25519 key. Used by the API (manual publish) and the optimize job (auto-publish).
 */
export { publishRelease, MANIFEST_KIND, type PublishInput } from './publish.js';
export { ensureChannel } from './channels.js';
export { ReleaseNumberContention } from './errors.js';
