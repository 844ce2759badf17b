/**
 * @modelfleet/contracts — the schemas of everything that crosses the wire between the server, the workers,
 * the device agent, the CLI and the dashboard. TypeBox schemas double as JSON Schema (route validation,
 * OpenAPI) and as TypeScript types (`Static<>`), so each shape is written once.
 */
export { ErrorResponse, Sha256 } from './common.js';
export { HealthResponse, ReadinessResponse, DependencyCheck, DependencyName } from './health.js';
export * from './models.js';
export * from './devices.js';
export * from './rollouts.js';
