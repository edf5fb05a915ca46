import type { Stores } from '../../src/db/stores.js';
import { openTestStores } from '../helpers/testStores.js';

/** A fresh, migrated, empty set of stores on one engine, and how to throw it away. */
export type OpenStores = () => Promise<{ stores: Stores; dispose(): Promise<void> }>;

/**
 * The engine every store contract suite runs against: the one test/helpers/testStores.ts picks
 * (TEST_DATABASE_URL set → PostgreSQL, else SQLite), so one run of the suite checks one engine.
 */
export const openStores: OpenStores = async () => openTestStores();
