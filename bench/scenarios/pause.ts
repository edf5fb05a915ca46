import type { BenchContext, Scenario } from '../scenario.js';

/**
 * Issue 3 and 15: agent breaks under load. 100 agents are registered in the `test` stage; every
 * request changes one agent's state. The runner starts the service with PAUSE_CHANGES_PER_MINUTE=0
 * (and the per-IP limit off): with the default per-agent limit of 10 changes a minute almost
 * every request here would be a spoken / 429 refusal instead of a change.
 *
 * - ivr-toggle: the platform's callback as Twilio sends it (form body, TwiML reply), a new CallSid
 *   per request, so each one toggles and stores its reply for replay de-duplication.
 * - webhook-toggle: `updatePauseStatusForCLI` in JSON, each request asking for the opposite of the
 *   agent's last state (a break with a fresh reason, or available), so every request is a change.
 *
 * Each is compared with its same-work twin (bench/twins/), seeded with the same 100 agents.
 */

const AGENTS = 100;
/**
 * Each scenario has its own 100 agents (`block` 0 or 1), so one scenario's runs never leave
 * another's agents in a state its requests do not expect.
 */
const cliOf = (block: number) => (i: number) => `+9198799${String(64000 + block * 1000 + (i % AGENTS)).padStart(5, '0')}`;
const name = (i: number) => `Agent ${i % AGENTS}`;

function agents(block: number) {
  const cli = cliOf(block);
  return {
    cli,
    async register(ctx: BenchContext): Promise<void> {
      for (let i = 0; i < AGENTS; i++) await ctx.call('PUT', `/admin/test/agents/${encodeURIComponent(cli(i))}`, { name: name(i) });
    },
    /** The same agents for the twin (`TWIN_AGENTS`). */
    twinEnv: { TWIN_AGENTS: JSON.stringify(Array.from({ length: AGENTS }, (_, i) => ({ stage: 'test', cli: cli(i), name: name(i) }))) },
  };
}
const ivrAgents = agents(0);
const webhookAgents = agents(1);

type Req = Record<string, unknown>;

export const pauseScenarios: Scenario[] = [
  {
    name: 'ivr-toggle',
    setup: ivrAgents.register,
    twin: { file: 'bench/twins/ivr-toggle.ts', env: ivrAgents.twinEnv },
    writes: 'pause_events',
    request: () => {
      // A fresh call id prefix per process measured, a new call per request.
      const prefix = `CA${Math.random().toString(36).slice(2, 10)}`;
      let n = 0;
      return {
        method: 'POST',
        path: '/ivr/test/inbound',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        requests: [
          {
            setupRequest: ((req: Req) => {
              const i = n++;
              const form = new URLSearchParams({
                AccountSid: 'AC7d3c5fe6a2b34f4e8c0b1f9a2d6e5c41',
                ApiVersion: '2010-04-01',
                CallSid: `${prefix}x${i}`,
                CallStatus: 'ringing',
                Direction: 'inbound',
                From: ivrAgents.cli(i),
                To: '+918047112233',
              });
              return { ...req, body: form.toString() };
            }) as never,
          },
        ],
      };
    },
    target: { cpuRatio: 0.6, fixedP99Ms: 25 },
  },
  {
    name: 'webhook-toggle',
    setup: webhookAgents.register,
    twin: { file: 'bench/twins/webhook-toggle.ts', env: webhookAgents.twinEnv },
    writes: 'pause_events',
    request: () => {
      // Every agent starts available; each request asks for the opposite of what this process was
      // last asked for that agent, a break with a reason no earlier request used. So every request
      // is a change even if a request cut off at the end of a run never arrived: a break asked of
      // an agent already on break changes its reason (one event, as a toggle), and asking an
      // agent to become available puts the state back where the next request expects it.
      const paused = new Array<boolean>(AGENTS).fill(false);
      let n = 0;
      return {
        method: 'POST',
        path: '/centraloutboundwebhook-v1/test/',
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: ((req: Req) => {
              const k = n++;
              const i = k % AGENTS;
              paused[i] = !paused[i];
              const body = paused[i]
                ? { method: 'updatePauseStatusForCLI', cli: webhookAgents.cli(i), pause: true, reason: `break ${k}` }
                : { method: 'updatePauseStatusForCLI', cli: webhookAgents.cli(i), pause: false };
              return { ...req, body: JSON.stringify(body) };
            }) as never,
          },
        ],
      };
    },
    target: { cpuRatio: 0.7, fixedP99Ms: 25 },
  },
];
