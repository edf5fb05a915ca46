import type { Measurement, Scenario } from '../scenario.js';
import { foundationScenarios } from './foundation.js';
import { xmlMeasurements, xmlScenarios } from './xml.js';
import { outboundMeasurements, outboundScenarios } from './outbound.js';

/** Every HTTP scenario and measurement `npm run bench` runs; each feature adds its own file. */
export const scenarios: Scenario[] = [...foundationScenarios, ...xmlScenarios, ...outboundScenarios];
export const measurements: Measurement[] = [...xmlMeasurements, ...outboundMeasurements];
