// `burrow exec -- ssh …` asks the real OpenSSH client (`ssh -G`, which prints the configuration it would use and
// connects nowhere) whether the user's ssh_config already routes the host; the unit tests skip that step.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planExec } from '../../src/wrap/exec.ts';
import { HAVE_SSH } from '../helpers/openssh-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'burrow-ssh-g-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'ssh_config');
writeFileSync(config, ['Host jumped.example', '    ProxyJump bastion.example', 'Host commanded.example', '    ProxyCommand nc -X connect -x proxy.example:3128 %h %p', ''].join('\n'));
const bridge = { host: '127.0.0.1', port: 40000, user: 'burrow', password: 'BridgeToken123' };
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };

describe.skipIf(!HAVE_SSH)('burrow exec -- ssh: the ssh -G check against a real ssh_config', () => {
  it.each([
    ['jumped.example', 'ProxyJump bastion.example'],
    ['commanded.example', 'ProxyCommand nc -X connect -x proxy.example:3128 %h %p'],
  ])('keeps the ssh_config route of %s and says so', (host, kept) => {
    const plan = planExec(['ssh', '-F', config, host], env, [], bridge, true);
    expect(plan.args).toEqual(['-F', config, host]);
    expect(plan.notes.join('\n')).toContain(`your ssh_config sets ${kept} for this host; kept it`);
  });

  it('adds burrow as the ProxyCommand for a host the ssh_config leaves alone', () => {
    const plan = planExec(['ssh', '-F', config, 'plain.example'], env, [], bridge, true);
    expect(plan.args.slice(0, 2)).toEqual(['-o', expect.stringMatching(/^ProxyCommand=.* connect %h %p$/)]);
    expect(plan.args.slice(2)).toEqual(['-F', config, 'plain.example']);
  });
});
