import type { Config } from '../config.js';
import { invalid, missing } from '../http/errors.js';
import type { Params } from '../http/params.js';
import type { Stage } from '../http/routing.js';
import type { WebhookMethod } from '../webhook/registry.js';
import type { UserRef } from './userprefs.store.js';
import type { KeyInput, UserPrefsService } from './userprefs.service.js';

/** Central webhook methods `updateUserPreferences` and `getUserPreferences` (docs/http.md §2.5). */
export function userPrefsMethods(service: UserPrefsService, config: Config): WebhookMethod[] {
  const userOf = (stage: Stage, params: Params): UserRef => ({
    stage,
    contactNumber: params.requirePhone('contactNumber', config.DEFAULT_REGION),
    accountId: params.requireString('accountID', { max: 128 }),
  });

  return [
    {
      name: 'updateUserPreferences',
      failure: { updated: false },
      async handle({ stage, params }) {
        const user = userOf(stage, params);
        const inputs = keyInputs(params);
        if (inputs.length === 0) throw missing('key');
        const key = await service.update(user, inputs);
        return { body: { updated: true, contactNumber: user.contactNumber, accountID: user.accountId, key } };
      },
    },
    {
      name: 'getUserPreferences',
      failure: {},
      async handle({ stage, params }) {
        const user = userOf(stage, params);
        return { body: { contactNumber: user.contactNumber, accountID: user.accountId, key: await service.get(user) } };
      },
    },
  ];
}

/**
 * The user keys of a request in all three spellings: `key.NAME`, `$user.key.NAME` (both via
 * `params.userKeys()`) and an object `key` (JSON object or XML `<key><NAME>…</NAME></key>`).
 * An empty `key` (`<key/>`, `key=`) carries no keys.
 */
function keyInputs(params: Params): KeyInput[] {
  const inputs: KeyInput[] = [];
  for (const [name, value] of params.userKeys()) inputs.push({ field: `key.${name}`, name, value });
  const obj = params.raw('key');
  if (obj === undefined || obj === null || obj === '') return inputs;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw invalid('key', 'key must be an object of NAME: value pairs (in a form, use key.NAME=value)');
  }
  for (const [name, value] of Object.entries(obj)) inputs.push({ field: `key.${name}`, name, value });
  return inputs;
}
