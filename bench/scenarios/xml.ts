import autocannon from 'autocannon';
import { decodeXmlBytes, parseXml } from '../../src/xml/parse.js';
import { compileMapping, previewMapping } from '../../src/mapping/preview.service.js';
import type { BenchContext, Measurement, RequestShape, Scenario } from '../scenario.js';

/**
 * Issue 6: XML costs. The measurement parses and maps a 1 KB SOAP response in-process (the work
 * behind /mapping/preview and behind every XML body); the scenario pair sends one central-webhook
 * request (getUserPreferences) as XML and as JSON, so the table shows XML's rate next to JSON's (goal: XML ≥ 0.8× JSON).
 * Because two table rows run seconds apart on a shared machine, `webhook-xml-vs-json` also
 * alternates the two requests against the same service, several short rounds each, and reports
 * the ratio of the medians.
 */

const SOAP_1KB = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:example:orders">
  <soap:Header><m:TraceId>7f3c-19a2-4be1</m:TraceId></soap:Header>
  <soap:Body>
    <m:GetOrderResponse>
      <m:Result m:final="true"><m:Code>00</m:Code><m:Message>Order found &amp; confirmed</m:Message></m:Result>
      <m:Customer id="C-88213"><m:Name>अनीता शर्मा</m:Name><m:City>Pune</m:City><m:Phone>+919879964805</m:Phone></m:Customer>
      <m:Items count="3">
        <m:Item sku="TSH-M-BLU"><m:Name>T-shirt</m:Name><m:Qty>2</m:Qty><m:Price>499.00</m:Price></m:Item>
        <m:Item sku="MUG-01"><m:Name>Mug</m:Name><m:Qty>1</m:Qty><m:Price>249.00</m:Price></m:Item>
        <m:Item sku="BAG-XL"><m:Name>Tote bag</m:Name><m:Qty>1</m:Qty><m:Price>252.00</m:Price></m:Item>
      </m:Items>
      <m:Notes><![CDATA[Leave at the gate; call before 6 pm]]></m:Notes>
      <m:Delivery><m:Eta>2026-11-29T18:00:00+05:30</m:Eta><m:Slot/></m:Delivery>
    </m:GetOrderResponse>
  </soap:Body>
</soap:Envelope>
`);

const MAPPING: [string, unknown][] = Object.entries({
  '$flow.key.code': 'Envelope.Body.GetOrderResponse.Result.Code',
  '$flow.key.customer': 'Envelope.Body.GetOrderResponse.Customer.Name',
  '$flow.key.customerId': 'Envelope.Body.GetOrderResponse.Customer.@id',
  '$flow.key.secondSku': 'Envelope.Body.GetOrderResponse.Items.Item[1].@sku',
  '$flow.key.thirdPrice': 'Envelope.Body.GetOrderResponse.Items.Item[2].Price',
  '$flow.key.notes': 'Envelope.Body.GetOrderResponse.Notes',
  '$flow.key.eta': 'Envelope.Body.GetOrderResponse.Delivery.Eta',
  '$flow.key.fault': 'Envelope.Body.Fault.faultstring',
});

const RUN_MS = 3_000;

const parseAndMap: Measurement = {
  name: 'xml-parse-map-1kb',
  async run() {
    let ops = 0;
    let last: ReturnType<typeof previewMapping> | undefined;
    const t0 = performance.now();
    while (performance.now() - t0 < RUN_MS) {
      for (let i = 0; i < 100; i++) {
        const doc = { kind: 'xml' as const, root: parseXml(decodeXmlBytes(SOAP_1KB)) };
        last = previewMapping(doc, compileMapping(MAPPING));
      }
      ops += 100;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (last?.variables['$flow.key.secondSku'] !== 'MUG-01' || last.missing.length !== 1) {
      throw new Error('the mapping did not read the expected values');
    }
    return { documentBytes: SOAP_1KB.length, variables: MAPPING.length, opsPerSecond: Math.round(ops / seconds) };
  },
};

/**
 * The same webhook request in both formats: `getUserPreferences` of a user with three keys, a
 * real read with a nested reply. The user is created once in setup.
 */
const USER = { contactNumber: '9879964805', accountID: 'bench-xml' };
const PARAMS = { method: 'getUserPreferences', ...USER };
const HOOK = '/centraloutboundwebhook-v1/test/';
const EXPECT = [200];

async function setup(ctx: BenchContext): Promise<void> {
  const body = { method: 'updateUserPreferences', ...USER, key: { lang: 'hi', city: 'Pune', plan: 'gold' } };
  const r = (await ctx.call('POST', HOOK, body)) as { updated?: boolean };
  if (r.updated !== true) throw new Error(`setup failed: ${JSON.stringify(r)}`);
}

const jsonRequest = (): RequestShape => ({
  method: 'POST',
  path: HOOK,
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify(PARAMS),
});

const xmlRequest = (): RequestShape => ({
  method: 'POST',
  path: HOOK,
  headers: { 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?><request>${Object.entries(PARAMS)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('')}</request>`,
});

export const xmlScenarios: Scenario[] = [
  { name: 'webhook-json-body', setup, request: jsonRequest, expectStatus: EXPECT },
  { name: 'webhook-xml-body', setup, request: xmlRequest, expectStatus: EXPECT },
];

const ROUNDS = 3;
const ROUND_S = 3;

async function rate(baseUrl: string, shape: RequestShape): Promise<number> {
  const r = await autocannon({
    url: baseUrl + shape.path,
    method: shape.method,
    headers: shape.headers,
    body: shape.body,
    connections: 32,
    duration: ROUND_S,
    timeout: 10,
  });
  const total = Object.values(r.statusCodeStats ?? {}).reduce((n, s) => n + (s.count ?? 0), 0);
  const ok = Object.entries(r.statusCodeStats ?? {}).reduce((n, [code, s]) => n + (EXPECT.includes(Number(code)) ? (s.count ?? 0) : 0), 0);
  if (ok === 0 || r.errors > 0 || ok !== total) throw new Error(`unexpected replies: ${JSON.stringify(r.statusCodeStats)}, ${r.errors} errors`);
  return ok / (r.duration || ROUND_S);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const xmlVsJson: Measurement = {
  name: 'webhook-xml-vs-json',
  async run(ctx) {
    await setup(ctx);
    const json: number[] = [];
    const xml: number[] = [];
    await rate(ctx.baseUrl, jsonRequest()); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      json.push(await rate(ctx.baseUrl, jsonRequest()));
      xml.push(await rate(ctx.baseUrl, xmlRequest()));
    }
    const ratio = median(xml) / median(json);
    return {
      method: PARAMS.method,
      rounds: `${ROUNDS} × ${ROUND_S} s each, alternating`,
      jsonRequestsPerSecond: Math.round(median(json)),
      xmlRequestsPerSecond: Math.round(median(xml)),
      ratio: `${ratio.toFixed(2)}×`,
      target: '≥ 0.8×',
      met: ratio >= 0.8 ? 'yes' : 'no',
    };
  },
};

export const xmlMeasurements: Measurement[] = [parseAndMap, xmlVsJson];
