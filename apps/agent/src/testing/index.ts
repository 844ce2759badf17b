/** Test support for the agent's unit tests and the end-to-end tests in test/ (imports demo-models: dev only). */
export {
  deltaSlot,
  demoBundle,
  demoPreprocessing,
  nanBundle,
  signedAnswer,
  wrongShapeBundle,
  type AnswerOptions,
  type TestBundle,
} from './fixtures.js';
export { startFakeDeviceServer, type FakeDeviceServer } from './fake-server.js';
