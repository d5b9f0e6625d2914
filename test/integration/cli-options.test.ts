import { describe, expect, it } from 'vitest';
import { cleanEnv, runBurrow } from '../helpers/run-burrow.ts';

// yargs' boolean negation once read `--no-proxy LIST` as "proxy = false" followed by an unknown argument, in every
// command but `connect` (which parses its own argv). These run the real CLI so that the parser's configuration is
// what is tested.
describe('--no-… options in the yargs commands', () => {
  it.each([
    ['--no-proxy LIST', ['--no-proxy', 'example.com']],
    ['--no-proxy=LIST', ['--no-proxy=example.com']],
  ])('route takes %s and sends the matching target direct', async (_form, flag) => {
    const result = await runBurrow(['route', 'example.com', '22', ...flag, '--json'], { env: cleanEnv({ HTTPS_PROXY: 'http://proxy.invalid:3128' }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const route = JSON.parse(result.stdout.toString()) as { plan: { hops: string[] }[] };
    expect(route.plan.map((alternative) => alternative.hops)).toEqual([[]]);
  });

  it('ssh-config --no-fdpass --no-multiplex leaves both out; without them both are written', async () => {
    const bare = await runBurrow(['ssh-config', 'jump.example', '--no-fdpass', '--no-multiplex'], { env: cleanEnv() });
    expect(bare.code).toBe(0);
    expect(bare.stdout.toString()).not.toMatch(/ProxyUseFdpass|ControlMaster/);
    const full = await runBurrow(['ssh-config', 'jump.example'], { env: cleanEnv() });
    expect(full.code).toBe(0);
    expect(full.stdout.toString()).toMatch(/ProxyUseFdpass yes/);
    expect(full.stdout.toString()).toMatch(/ControlMaster/);
  });

  it('tsh --no-probe is an option of its own, not a negation', async () => {
    const result = await runBurrow(['tsh', '--no-probe', '--tsh', '/bin/true', '--dry-run', '--', 'login', '--proxy=teleport.example:443'], { env: cleanEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('argv: /bin/true login --proxy=teleport.example:443');
  });
});
