import { describe } from 'vitest';
import { openStores } from './engines.js';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { outboundStoreContract } from './outbound.store.contract.js';
import { outboxStoreContract } from './outbox.store.contract.js';
import { pauseStoreContract } from './pause.store.contract.js';
import { sessionStoreContract } from './session.store.contract.js';
import { shortUrlStoreContract } from './shorturl.store.contract.js';
import { userPrefsStoreContract } from './userprefs.store.contract.js';

/** Every store's contract on the engine this run uses (test/helpers/testStores.ts). */
describe(`stores on ${TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}`, () => {
  outboundStoreContract(openStores);
  outboxStoreContract(openStores);
  pauseStoreContract(openStores);
  userPrefsStoreContract(openStores);
  shortUrlStoreContract(openStores);
  sessionStoreContract(openStores);
});
