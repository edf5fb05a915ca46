import type { Measurement, Scenario } from '../scenario.js';
import { foundationScenarios } from './foundation.js';
import { xmlMeasurements, xmlScenarios } from './xml.js';
import { outboundMeasurements, outboundScenarios } from './outbound.js';
import { breaksMeasurements, breaksScenarios } from './breaks.js';
import { pauseScenarios } from './pause.js';
import { shortUrlScenarios } from './shorturl.js';

/**
 * Every HTTP scenario and measurement `npm run bench` runs; each feature adds its own file. The
 * scenarios with issue 15's targets come first, in the issue's order.
 */
export const scenarios: Scenario[] = [
  ...pauseScenarios,
  ...shortUrlScenarios.filter((s) => s.name !== 'redirect'),
  ...foundationScenarios,
  ...shortUrlScenarios.filter((s) => s.name === 'redirect'),
  ...xmlScenarios,
  ...outboundScenarios,
  ...breaksScenarios,
];
export const measurements: Measurement[] = [...xmlMeasurements, ...outboundMeasurements, ...breaksMeasurements];
