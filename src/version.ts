// Kept equal to package.json's version by test/unit/version.test.ts (reading package.json at run time would cost
// the ProxyCommand path a file read and a JSON parse).
export const VERSION = '0.1.0';
