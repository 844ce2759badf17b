/** @modelfleet/demo — the newcomer's tour behind `npm run demo` (see docs/dashboard.md). */
export { runTour, DEMO_LINE, type TourOptions, type TourResult } from './tour.js';
