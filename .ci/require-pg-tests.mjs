// CI's PostgreSQL pass: fail unless every test of the PostgreSQL-only files ran and passed
// (they are skipped without TEST_DATABASE_URL, so a broken URL must not turn them into a green skip).
import { readFileSync } from 'node:fs';

const PG_ONLY = [/\/test\/cluster\//, /\/test\/db\/pg\./];
const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let ran = 0;
const problems = [];
for (const file of report.testResults) {
  if (!PG_ONLY.some((re) => re.test(file.name))) continue;
  for (const t of file.assertionResults) {
    if (t.status === 'passed') ran++;
    else problems.push(`${t.status}: ${file.name.replace(/^.*\/test\//, 'test/')} › ${t.fullName}`);
  }
}
if (problems.length || ran === 0) {
  console.error(`PostgreSQL-only tests: ${ran} passed; not passed:\n${problems.join('\n') || '(none found at all)'}`);
  process.exit(1);
}
console.log(`PostgreSQL-only tests: all ${ran} ran and passed`);
