import { decodeXmlBytes, parseXml } from '../../src/xml/parse.js';
import { compileMapping, previewMapping } from '../../src/mapping/preview.service.js';
import type { Measurement, Scenario } from '../scenario.js';

/**
 * Issue 6: XML costs. The measurement parses and maps a 1 KB SOAP response in-process (the work
 * behind /mapping/preview and behind every XML body); the scenario pair sends one central-webhook
 * request as XML and as JSON, so the table shows XML's rate next to JSON's (goal: XML ≥ 0.8× JSON).
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

export const xmlMeasurements: Measurement[] = [
  {
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
  },
];

/** The same webhook request in both formats (UNKNOWN_METHOD: the full parse → dispatch → error path). */
const PARAMS = { method: 'noSuchMethod', cli: '9879964805' };

export const xmlScenarios: Scenario[] = [
  {
    name: 'webhook-json-body',
    request: () => ({
      method: 'POST',
      path: '/centraloutboundwebhook-v1/test/',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(PARAMS),
    }),
    expectStatus: [400],
  },
  {
    name: 'webhook-xml-body',
    request: () => ({
      method: 'POST',
      path: '/centraloutboundwebhook-v1/test/',
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?><request>${Object.entries(PARAMS)
        .map(([k, v]) => `<${k}>${v}</${k}>`)
        .join('')}</request>`,
    }),
    expectStatus: [400],
  },
];
