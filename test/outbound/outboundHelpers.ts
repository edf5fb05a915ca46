import supertest from 'supertest';
import type { TestApp } from '../helpers/buildTestApp.js';

export const SECURITY_ID = 'S3cur1ty'.repeat(8);
export const OTHER_SECURITY_ID = 'x'.repeat(64);
export const FLOW_ID = 'FLOW0001';
export const CLIENT_ID = 'acme';

export async function registerClient(
  t: TestApp,
  { stage = 'prod', clientID = CLIENT_ID, securityID = SECURITY_ID, flows = [FLOW_ID] } = {},
): Promise<void> {
  const res = await supertest(t.http).put(`/admin/${stage}/clients/${clientID}`).send({ securityID, flows });
  if (res.status !== 201 && res.status !== 200) throw new Error(`client registration failed: ${res.status} ${res.text}`);
}

export function webhook(t: TestApp, body: Record<string, unknown>, stage = 'prod') {
  return supertest(t.http).post(`/centraloutboundwebhook-v1/${stage}/`).send(body);
}

export function createBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    method: 'createOutbound',
    apiVersion: '1.0',
    clientID: CLIENT_ID,
    securityID: SECURITY_ID,
    flowID: FLOW_ID,
    contactNumbers: ['9879964805'],
    ...overrides,
  };
}

export function statusBody(obdReqID: string, method = 'getOutboundStatus', overrides: Record<string, unknown> = {}) {
  return { method, clientID: CLIENT_ID, securityID: SECURITY_ID, obdReqID, ...overrides };
}

/** Poll until `check` passes (real time), failing after `timeoutMs` (generous: only a failing test waits that long, and a loaded CI machine is slow). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** Indian mobile numbers 98000 00000 + i, all valid. */
export function numbers(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `98${String(from + i).padStart(8, '0')}`);
}
