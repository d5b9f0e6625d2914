import { defineConfig } from 'vitest/config';

// Three suites: unit (pure functions), integration (hermetic: Node peers written for the tests, ssh2's Server,
// the system's OpenSSH client), interop (real squid, dante, microsocks, tinyproxy and sshd; needs root and the
// Debian packages that .ci/run installs).
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Real daemons bind ports and write into shared spool directories: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
