import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PLAYER_DIALECTS, playCall, type CallRequest, type Dialect } from './call.player.js';
import { withEnvFile } from '../envFile.js';

/**
 * `npm run call -- --cli 9879964805 [--digits 1,2] [--dialect plivo] [--stage test] [--lang hi]
 * [--mode menu] [--url http://127.0.0.1:3000]` — place a call against a running service as the
 * platform would and print what the caller hears (`--digits 1,said:lunch` says a choice instead
 * of pressing it; `--dialect exotel` follows Exotel's Passthru branches and Greeting fetches). Without `--url` it calls the service that
 * `npm start` would serve here: `HOST` and `PORT` from the environment or `.env` (docs/http.md §8.1).
 */

/** The URL `npm start` listens on with this environment (`0.0.0.0`/`::` are reached on loopback). */
function defaultServiceUrl(env: NodeJS.ProcessEnv): string {
  let host = env.HOST?.trim() || '127.0.0.1';
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const port = env.PORT?.trim() || '3000';
  const scheme = env.TLS_CERT_FILE?.trim() && env.TLS_KEY_FILE?.trim() ? 'https' : 'http';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const USAGE =
  'usage: npm run call -- --cli <number> [--digits 1,2] [--dialect twiml|texml|plivo|exotel] [--stage prod|test] [--lang en|hi] [--mode toggle|menu] [--did <number>] [--url http://127.0.0.1:3000] [--xml]';

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        cli: { type: 'string' },
        did: { type: 'string', default: '+918000000000' },
        digits: { type: 'string', default: '' },
        dialect: { type: 'string', default: 'twiml' },
        stage: { type: 'string' },
        lang: { type: 'string' },
        mode: { type: 'string' },
        url: { type: 'string' },
        xml: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help || !args.cli) {
    process.stderr.write(`${USAGE}\n`);
    return args.help ? 0 : 2;
  }
  const dialect = PLAYER_DIALECTS.find((d) => d === args.dialect);
  if (!dialect) {
    process.stderr.write(`--dialect must be one of ${PLAYER_DIALECTS.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const base = (args.url ?? defaultServiceUrl(withEnvFile())).replace(/\/+$/, '');
  const query = new URLSearchParams({ dialect });
  if (args.lang) query.set('lang', args.lang);
  if (args.mode) query.set('mode', args.mode);
  const path = `${args.stage ? `/ivr/${args.stage}/inbound` : '/ivr/inbound'}?${query.toString()}`;

  const send = async (r: CallRequest) => {
    const url = new URL(r.url, base);
    const init: RequestInit = { method: r.method, headers: {} };
    if (r.method !== 'POST') for (const [k, v] of Object.entries(r.form)) url.searchParams.set(k, v);
    else {
      init.body = new URLSearchParams(r.form).toString();
      init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new Error(`cannot reach the service at ${base} (${cause}); is it running? Give its address with --url, e.g. --url http://127.0.0.1:3000`);
    }
    return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
  };

  const call = await playCall(send, {
    url: path,
    dialect,
    cli: args.cli,
    did: args.did,
    callId: `CA${randomUUID().replace(/-/g, '')}`,
    digits: args.digits.split(',').map((d) => d.trim()).filter(Boolean),
  });
  for (const [i, turn] of call.turns.entries()) {
    const { Digits: pressed, SpeechResult, Speech } = turn.request.form;
    const input = pressed ? `  (pressed ${pressed})` : SpeechResult || Speech ? `  (said "${SpeechResult ?? Speech}")` : '';
    process.stdout.write(`→ ${turn.request.method} ${turn.request.url}${input}\n`);
    if (args.xml && turn.xml) process.stdout.write(`${turn.xml}\n`);
    if (dialect === 'exotel' && i === 0 && call.branch) process.stdout.write(`  HTTP ${turn.status}: Passthru takes branch ${call.branch}\n`);
    else if (turn.status !== 200) process.stdout.write(`  HTTP ${turn.status}: ${turn.xml}\n`);
    for (const line of turn.heard) process.stdout.write(`  🔊 ${line}\n`);
  }
  process.stdout.write(call.hungUp ? '☎ hung up\n' : '☎ call ended\n');
  return call.hungUp || call.turns.every((t) => t.status === 200) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`call failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
