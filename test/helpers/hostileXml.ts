import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The hostile XML documents of fixtures/mapping/bad, with the large ones built here. */

export interface HostileCase {
  name: string;
  bytes: Buffer;
  status: number;
  /** Expected error code when the document is the XML body. */
  code: string;
  /** Expected error code when the document travels inside a JSON body (defaults to `code`). */
  jsonCode: string;
}

const BAD_DIR = join(import.meta.dirname, '../../fixtures/mapping/bad');

const GENERATED: Record<string, () => string> = {
  'quadratic-blowup': () =>
    `<?xml version="1.0"?><!DOCTYPE kaboom [<!ENTITY a "${'a'.repeat(25_000)}">]><kaboom>${'&a;'.repeat(8_000)}</kaboom>`,
  'deep-nesting-8000': () => `${'<a>'.repeat(8_000)}${'</a>'.repeat(8_000)}`,
  'deep-nesting-100000': () => `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`,
  'attribute-1mb': () => `<request><method a="${'x'.repeat(1024 * 1024)}">getPauseStatusForCLI</method></request>`,
};

interface CaseEntry {
  name: string;
  file?: string;
  generate?: string;
  status: number;
  code: string;
  jsonCode?: string;
}

export function hostileCases(): HostileCase[] {
  const { cases } = JSON.parse(readFileSync(join(BAD_DIR, 'cases.json'), 'utf8')) as { cases: CaseEntry[] };
  return cases.map((c) => {
    const make = c.generate ? GENERATED[c.generate] : undefined;
    if (c.generate && !make) throw new Error(`no generator for ${c.generate}`);
    const bytes = make ? Buffer.from(make(), 'utf8') : readFileSync(join(BAD_DIR, c.file!));
    return { name: c.name, bytes, status: c.status, code: c.code, jsonCode: c.jsonCode ?? c.code };
  });
}

/**
 * A JSON body `{"document": <bytes as a JSON string>, "mapping": …}` built at the byte level, so
 * invalid UTF-8 in the document reaches the server as it is.
 */
export function previewBodyBytes(document: Buffer, mapping: Record<string, string>): Buffer {
  const escaped: number[] = [];
  for (const b of document) {
    if (b === 0x22 || b === 0x5c) escaped.push(0x5c, b);
    else if (b < 0x20) escaped.push(...Buffer.from(`\\u${b.toString(16).padStart(4, '0')}`));
    else escaped.push(b);
  }
  return Buffer.concat([
    Buffer.from(`{"mapping":${JSON.stringify(mapping)},"document":"`),
    Buffer.from(escaped),
    Buffer.from('"}'),
  ]);
}
