import type { NewRequest } from '../../src/outbound/outbound.store.js';

/** The outbound store contracts' shared fixtures: a time, a request of client acme, its stored response. */
export const T0 = Date.parse('2026-01-15T10:00:00.000Z');

export const newRequest = (over: Partial<NewRequest> = {}): NewRequest => ({
  stage: 'prod',
  reqID: 'req1',
  clientID: 'acme',
  flowID: 'FLOW0001',
  phononUUID: '00000000-0000-4000-8000-000000000001',
  scheduledAt: T0,
  createdAt: T0,
  numbers: ['+919800000000', '+919800000001'],
  ...over,
});

export const ok = (reqID: string) => ({ status: 200, body: { obdReqID: reqID } });
