import type { AppDeps } from '../../src/deps.js';
import type { Feature } from '../../src/webhook/registry.js';
import { AppError } from '../../src/http/errors.js';

/**
 * A test-only feature that exercises the shared layers the way real methods do: `echoParams`
 * reads typed parameters through Params, `boom` throws a non-AppError to prove INTERNAL hides
 * details. It is only ever mounted by tests.
 */
export function echoFeature(deps: AppDeps): Feature[] {
  return [
    {
      name: 'echo',
      methods: [
        {
          name: 'echoParams',
          failure: { echoed: false },
          handle({ stage, params }) {
            return {
              body: {
                echoed: true,
                stage,
                cli: params.has('cli') ? params.requirePhone('cli', deps.config.DEFAULT_REGION) : null,
                name: params.string('name', { max: 10 }) ?? null,
                flag: params.bool('flag') ?? null,
                count: params.int('count', { min: 0, max: 100 }) ?? null,
                key: Object.fromEntries(params.userKeys()),
                nested: (params.raw('nested') as Record<string, unknown> | undefined) ?? null,
                list: (params.raw('list') as unknown[] | undefined) ?? null,
              },
            };
          },
        },
        {
          name: 'boom',
          failure: { ok: false },
          handle() {
            throw Object.assign(new Error('SQLITE_ERROR: near "DROP TABLE secret_table": syntax error at /src/x.ts:1'), {
              code: 'SQLITE_ERROR',
            });
          },
        },
        {
          name: 'conflict',
          failure: { ok: false },
          handle() {
            throw new AppError('CONFLICT', 'already exists');
          },
        },
      ],
    },
  ];
}
