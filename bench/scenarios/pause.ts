import type { BenchContext, Scenario } from '../scenario.js';

/**
 * Issue 3: agent breaks under load. 100 agents are registered in the `test` stage; every request
 * changes one agent's state through the one atomic `changePause` (agent row + event row in one
 * transaction). The runner starts the service with PAUSE_CHANGES_PER_MINUTE=0 (and the per-IP
 * limit off): with the default per-agent limit of 10 changes a minute almost every request here
 * would be a spoken / 429 refusal instead of a change.
 *
 * - ivr-toggle-twiml: the platform's callback as Twilio sends it (form body, TwiML reply), a new
 *   CallSid per request, so each one toggles and stores its reply for replay de-duplication.
 * - webhook-pause-json: `updatePauseStatusForCLI` in JSON, alternating pause/available per agent.
 */

const AGENTS = 100;
const cli = (i: number) => `+9198799${String(64000 + (i % AGENTS)).padStart(5, '0')}`;

async function registerAgents(ctx: BenchContext): Promise<void> {
  for (let i = 0; i < AGENTS; i++) await ctx.call('PUT', `/admin/test/agents/${encodeURIComponent(cli(i))}`, { name: `Agent ${i}` });
}

let ivrCounter = 0;
let webhookCounter = 0;

export const pauseScenarios: Scenario[] = [
  {
    name: 'ivr-toggle-twiml',
    setup: registerAgents,
    request: () => ({
      path: '/ivr/test/inbound',
      requests: [
        {
          method: 'POST',
          path: '/ivr/test/inbound',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => {
            const n = ivrCounter++;
            const form = new URLSearchParams({
              AccountSid: 'AC7d3c5fe6a2b34f4e8c0b1f9a2d6e5c41',
              ApiVersion: '2010-04-01',
              CallSid: `CAbench${process.pid}x${n}`,
              CallStatus: 'ringing',
              Direction: 'inbound',
              From: cli(n),
              To: '+918047112233',
            });
            return { ...req, body: form.toString() };
          },
        },
      ],
    }),
    target: { ratio: 0.6, p99Ms: 50 },
  },
  {
    name: 'webhook-pause-json',
    setup: registerAgents,
    request: () => ({
      path: '/centraloutboundwebhook-v1/test/',
      requests: [
        {
          method: 'POST',
          path: '/centraloutboundwebhook-v1/test/',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => {
            const n = webhookCounter++;
            const pause = Math.floor(n / AGENTS) % 2 === 0;
            return { ...req, body: JSON.stringify({ method: 'updatePauseStatusForCLI', cli: cli(n), pause }) };
          },
        },
      ],
    }),
    target: { ratio: 0.6, p99Ms: 50 },
  },
];
