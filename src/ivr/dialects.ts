import type { DialectTable } from './dialect.js';
import { exotel } from './dialect.exotel.js';
import { plivo } from './dialect.plivo.js';
import { texml } from './dialect.texml.js';
import { twiml } from './dialect.twiml.js';

/** Every reply dialect of the IVR (docs/http.md §4, §10), by its `?dialect=` / `IVR_DIALECT` name. */
export const DIALECT_TABLES = { twiml, texml, plivo, exotel } as const satisfies Record<string, DialectTable>;

export type Dialect = keyof typeof DIALECT_TABLES;
export const DIALECTS = Object.keys(DIALECT_TABLES) as Dialect[];
