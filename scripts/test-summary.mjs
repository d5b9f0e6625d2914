// Prints vitest's totals as one plain "tests: N passed, N failed, N skipped" line, which CI reads, and exits with
// vitest's status. Usage: node scripts/test-summary.mjs REPORT.json STATUS
import { readFileSync } from 'node:fs';

const [file, status = '1'] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  process.exit(Number(status) || 1);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
process.exit(Number(status));
