// Preloaded into a service process by test/outbound/twilioSdkLazy.test.ts (NODE_OPTIONS=--import):
// when the process exits, write the npm packages it had loaded through CommonJS (require.cache,
// which also holds CommonJS packages imported from ES modules) to LOADED_PACKAGES_FILE as JSON.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.on('exit', () => {
  const names = new Set();
  for (const path of Object.keys(require.cache)) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/[^]*$/.exec(path);
    if (m) names.add(m[1]);
  }
  writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify([...names].sort()));
});
