import type { Scenario } from '../scenario.js';

/** Issue 2: the central webhook's full parse → negotiate → error path (UNKNOWN_METHOD), against the echo. */
export const foundationScenarios: Scenario[] = [
  {
    name: 'unknown-method',
    request: () => ({
      method: 'POST',
      path: '/centraloutboundwebhook-v1/test/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'noSuchMethod', cli: '9879964805' }),
    }),
    expectStatus: [400],
    target: { cpuRatio: 0.8, fixedP99Ms: 25 },
  },
];
