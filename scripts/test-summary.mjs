// Prints vitest's totals as one plain "tests: N passed, N failed, N skipped" line, which CI reads, and fails the run
// when a test skipped without being on the allow-list (test/skips-allowed.json: the test's full name, or a
// /regular expression/, and the reason it may skip). A skip hides a missing peer as well as a pass would; a listed one
// says why it is acceptable. Usage: node scripts/test-summary.mjs REPORT.json STATUS
import { readFileSync } from 'node:fs';

const [file, status = '1'] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  process.exit(Number(status) || 1);
}
const allowed = JSON.parse(readFileSync(new URL('../test/skips-allowed.json', import.meta.url), 'utf8'));
const matches = (entry, name) => (entry.test.startsWith('/') && entry.test.endsWith('/') ? new RegExp(entry.test.slice(1, -1)).test(name) : entry.test === name);

const skippedTests = [];
for (const result of report.testResults ?? []) {
  for (const assertion of result.assertionResults ?? []) {
    if (assertion.status === 'pending' || assertion.status === 'skipped' || assertion.status === 'todo') {
      const name = [...(assertion.ancestorTitles ?? []), assertion.title].join(' > ');
      skippedTests.push({ file: String(result.name ?? '').replace(/^.*?\/test\//, 'test/'), name });
    }
  }
}
const unlisted = skippedTests.filter((t) => !allowed.some((entry) => matches(entry, t.name)));
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skippedTests.length} skipped (${skippedTests.length - unlisted.length} on the allow-list)`);
for (const t of unlisted) console.log(`test-summary: skipped without a reason on test/skips-allowed.json: ${t.file} > ${t.name}`);
if (unlisted.length > 0 && Number(status) === 0) {
  console.log('test-summary: failing the run: install what the test needs (.ci/install-peers.sh), or list it with the reason it may skip');
  process.exit(1);
}
process.exit(Number(status));
