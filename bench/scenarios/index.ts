import type { Measurement, Scenario } from '../scenario.js';

/** Every HTTP scenario and measurement `npm run bench` runs; each feature adds its own file. */
export const scenarios: Scenario[] = [];
export const measurements: Measurement[] = [];
