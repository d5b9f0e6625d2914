// What the benchmark runs: burrow and the anchors REFERENCE.md §5 compares it with, each as an argv for a target
// port, and whether each is installed here (a missing anchor is skipped with a reason, never an error).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../peers/binaries.ts';
import { LOOPBACK } from '../peers/net.ts';
/** The floor for a Node ProxyCommand (issue #11): bench/node-connect.cjs, beside this file and one level below dist/. */
const NODE_CONNECT_CLIENT = fileURLToPath(new URL('../bench/node-connect.cjs', import.meta.url));

export type Kind = 'burrow' | 'anchor' | 'reference';

export interface Candidate {
  id: string;
  label: string;
  kind: Kind;
  /** Through the squid under test, or straight to the target (reference rows). */
  via: 'squid' | 'direct' | 'none';
  /** The command for a target port; undefined when skipped. */
  argv?: (targetPort: number) => string[];
  /** Why it is skipped (not installed, the wrong netcat). */
  skip?: string;
  version?: string;
  /** Extra environment for this row only. */
  env?: Record<string, string>;
}

export interface Setup {
  squidPort: number;
  /** bin/burrow (or BENCH_BURROW). */
  burrow: string;
  /** The single executable (dist/exe, or BENCH_EXE), when it has been built. */
  exe?: string;
  /** The `node` on PATH: the one bin/burrow's `#!/usr/bin/env node` runs. */
  node: string;
  /** NODE_EXTRA_CA_CERTS as the caller's environment has it (the children run without it unless kept). */
  extraCaCerts?: string;
}

function firstLine(program: string, args: string[], pick: (text: string) => string | undefined = (t) => t.split('\n')[0]): string | undefined {
  try {
    const r = spawnSync(program, args, { encoding: 'utf8', timeout: 3000 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    return text ? pick(text)?.trim() : undefined;
  } catch {
    return undefined;
  }
}

function dpkgVersion(pkg: string): string | undefined {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
  const v = firstLine('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return v && !/no packages found|not installed/i.test(v) ? `${pkg} ${v}` : undefined;
}

function tool(name: string): { path?: string; skip?: string } {
  const path = findBinary(name);
  return path ? { path } : { skip: `${name} is not installed` };
}

function openbsdNetcat(): { path?: string; skip?: string } {
  const found = tool('nc');
  if (!found.path) return { skip: 'nc is not installed (Debian: netcat-openbsd)' };
  // Only OpenBSD's netcat has -X connect and -N; traditional and busybox netcats do not.
  const help = firstLine(found.path, ['-h'], (t) => t);
  if (!help || !/OpenBSD netcat/i.test(help)) return { skip: `${found.path} is not OpenBSD netcat (no -X connect / -N)` };
  return found;
}

/** Throughput rows: references first (no proxy), then the anchors and burrow through squid. */
export function throughputCandidates(setup: Setup): Candidate[] {
  const { squidPort, burrow } = setup;
  const nc = openbsdNetcat();
  const socat = tool('socat');
  const ncat = tool('ncat');
  const corkscrew = tool('corkscrew');
  const ncVersion = dpkgVersion('netcat-openbsd') ?? 'OpenBSD netcat';
  return [
    {
      id: 'nc-direct',
      label: 'nc -N (no proxy: sink ceiling)',
      kind: 'reference',
      via: 'direct',
      ...(nc.path ? { argv: (p: number) => [nc.path!, '-N', LOOPBACK, String(p)] } : { skip: nc.skip }),
      version: ncVersion,
    },
    {
      id: 'burrow-direct',
      label: 'burrow connect --direct (no proxy)',
      kind: 'reference',
      via: 'direct',
      argv: (p) => [burrow, 'connect', '--direct', LOOPBACK, String(p)],
    },
    {
      id: 'nc',
      label: 'nc -N -X connect',
      kind: 'anchor',
      via: 'squid',
      ...(nc.path ? { argv: (p: number) => [nc.path!, '-N', '-X', 'connect', '-x', `${LOOPBACK}:${squidPort}`, LOOPBACK, String(p)] } : { skip: nc.skip }),
      version: ncVersion,
    },
    {
      id: 'socat',
      label: 'socat PROXY:',
      kind: 'anchor',
      via: 'squid',
      ...(socat.path ? { argv: (p: number) => [socat.path!, '-', `PROXY:${LOOPBACK}:${LOOPBACK}:${p},proxyport=${squidPort}`] } : { skip: socat.skip }),
      ...(socat.path ? { version: firstLine(socat.path, ['-V'], (t) => t.split('\n').find((l) => /socat version/.test(l))) } : {}),
    },
    {
      id: 'ncat',
      label: 'ncat --proxy-type http',
      kind: 'anchor',
      via: 'squid',
      ...(ncat.path ? { argv: (p: number) => [ncat.path!, '--proxy', `${LOOPBACK}:${squidPort}`, '--proxy-type', 'http', LOOPBACK, String(p)] } : { skip: ncat.skip }),
      ...(ncat.path ? { version: firstLine(ncat.path, ['--version']) } : {}),
    },
    {
      id: 'corkscrew',
      label: 'corkscrew',
      kind: 'anchor',
      via: 'squid',
      ...(corkscrew.path ? { argv: (p: number) => [corkscrew.path!, LOOPBACK, String(squidPort), LOOPBACK, String(p)] } : { skip: corkscrew.skip }),
      ...(corkscrew.path ? { version: dpkgVersion('corkscrew') } : {}),
    },
    {
      id: 'burrow',
      label: 'burrow connect -x http://…',
      kind: 'burrow',
      via: 'squid',
      argv: (p) => [burrow, 'connect', '-x', `http://${LOOPBACK}:${squidPort}`, LOOPBACK, String(p)],
    },
  ];
}

/** Start-up rows: `node -e 0` (spawn to exit) is the floor; the rest are timed to the target's accept. */
export function startupCandidates(setup: Setup): Candidate[] {
  const rows = throughputCandidates(setup).filter((c) => c.id !== 'nc-direct');
  const withCa: Candidate[] = setup.extraCaCerts
    ? [
        {
          id: 'node-extra-ca',
          label: 'node -e 0 with NODE_EXTRA_CA_CERTS',
          kind: 'reference',
          via: 'none',
          argv: () => [setup.node, '-e', '0'],
          env: { NODE_EXTRA_CA_CERTS: setup.extraCaCerts },
        },
        {
          id: 'burrow-extra-ca',
          label: 'burrow -x … with NODE_EXTRA_CA_CERTS',
          kind: 'reference',
          via: 'squid',
          argv: (p: number) => [setup.burrow, 'connect', '-x', `http://${LOOPBACK}:${setup.squidPort}`, LOOPBACK, String(p)],
          env: { NODE_EXTRA_CA_CERTS: setup.extraCaCerts },
        },
      ]
    : [];
  const exe = setup.exe;
  const exeRows: Candidate[] = [
    {
      id: 'burrow-exe',
      label: 'single executable connect -x …',
      kind: 'burrow',
      via: 'squid',
      ...(exe ? { argv: (p: number) => [exe, 'connect', '-x', `http://${LOOPBACK}:${setup.squidPort}`, LOOPBACK, String(p)] } : { skip: 'not built (npm run build:exe)' }),
    },
  ];
  return [
    { id: 'node', label: 'node -e 0 (spawn to exit)', kind: 'reference', via: 'none', argv: () => [setup.node, '-e', '0'] },
    { id: 'burrow-version', label: 'burrow --version (spawn to exit)', kind: 'reference', via: 'none', argv: () => [setup.burrow, '--version'] },
    ...(exe ? [{ id: 'burrow-exe-version', label: 'single executable --version', kind: 'reference' as const, via: 'none' as const, argv: () => [exe, '--version'] }] : []),
    {
      id: 'node-connect',
      label: 'minimal Node CONNECT client',
      kind: 'reference',
      via: 'squid',
      argv: (p: number) => [setup.node, NODE_CONNECT_CLIENT, LOOPBACK, String(setup.squidPort), LOOPBACK, String(p)],
    },
    ...rows,
    ...exeRows,
    ...withCa,
  ];
}

/** `dd` writes 1 MiB blocks into the pipe (GNU head -c writes 8 KiB ones and becomes the bottleneck near 1 GB/s). */
export function generatorCommand(bytes: number): { command: string; description: string } {
  const dd = findBinary('dd');
  const gnu = dd ? /coreutils/i.test(firstLine(dd, ['--version']) ?? '') : false;
  if (dd && gnu) {
    return { command: `${dd} if=/dev/zero bs=1M count=${bytes} iflag=count_bytes status=none`, description: 'dd if=/dev/zero bs=1M (pipe)' };
  }
  return { command: `head -c ${bytes} /dev/zero`, description: 'head -c N /dev/zero (pipe)' };
}

export function squidVersion(): string | undefined {
  const squid = findBinary('squid');
  return squid ? firstLine(squid, ['-v']) : undefined;
}

export function nodeVersion(node: string): string | undefined {
  return firstLine(node, ['--version']);
}

// ---------------------------------------------------------------------------------------------------------------
// `npm run bench:forward` (bench/forward.ts): long-running forwarders, each listening on 127.0.0.1 and tunnelling
// every accepted connection through the squid under test to one target.

export interface ForwardCandidate {
  id: string;
  label: string;
  kind: Kind;
  /** The forwarder for a listening port and a target port; undefined when skipped. */
  argv?: (listenPort: number, targetPort: number) => string[];
  /** burrow takes port 0 and prints the one it got (--print-port); the others are given a free port. */
  printsPort: boolean;
  /** Whether it forks a process per connection (its memory and CPU are summed over the process tree). */
  forks: boolean;
  /** What differs from the others (e.g. where it listens). */
  note?: string;
  skip?: string;
  version?: string;
}

export function forwardCandidates(setup: Setup): ForwardCandidate[] {
  const { squidPort, burrow } = setup;
  const socat = tool('socat');
  const proxytunnel = tool('proxytunnel');
  return [
    {
      id: 'socat',
      label: 'socat TCP-LISTEN:…,fork PROXY:',
      kind: 'anchor',
      printsPort: false,
      forks: true,
      ...(socat.path
        ? { argv: (l: number, t: number) => [socat.path!, `TCP-LISTEN:${l},bind=${LOOPBACK},fork,reuseaddr`, `PROXY:${LOOPBACK}:${LOOPBACK}:${t},proxyport=${squidPort}`] }
        : { skip: socat.skip }),
      ...(socat.path ? { version: firstLine(socat.path, ['-V'], (t) => t.split('\n').find((l) => /socat version/.test(l))) } : {}),
    },
    {
      // socat listens with a backlog of 5: with a few clients connecting at once, SYNs beyond it are dropped and
      // retried a second later. The same socat with a backlog that does not drop them, for a fair comparison.
      id: 'socat-backlog',
      label: 'socat …,fork,backlog=1024',
      kind: 'anchor',
      printsPort: false,
      forks: true,
      ...(socat.path
        ? { argv: (l: number, t: number) => [socat.path!, `TCP-LISTEN:${l},bind=${LOOPBACK},fork,reuseaddr,backlog=1024`, `PROXY:${LOOPBACK}:${LOOPBACK}:${t},proxyport=${squidPort}`] }
        : { skip: socat.skip }),
      ...(socat.path ? { version: firstLine(socat.path, ['-V'], (t) => t.split('\n').find((l) => /socat version/.test(l))) } : {}),
    },
    {
      id: 'proxytunnel',
      label: 'proxytunnel -a',
      kind: 'anchor',
      printsPort: false,
      forks: true,
      // It has no option for the listening address, and daemonizes (the process it starts as exits at once).
      note: 'listens on 0.0.0.0 (no bind option); daemonizes',
      ...(proxytunnel.path
        ? { argv: (l: number, t: number) => [proxytunnel.path!, '-a', String(l), '-p', `${LOOPBACK}:${squidPort}`, '-d', `${LOOPBACK}:${t}`] }
        : { skip: proxytunnel.skip }),
      ...(proxytunnel.path ? { version: dpkgVersion('proxytunnel') ?? firstLine(proxytunnel.path, ['-V']) } : {}),
    },
    {
      id: 'burrow',
      label: 'burrow forward -x http://… -L',
      kind: 'burrow',
      printsPort: true,
      forks: false,
      argv: (_l, t) => [burrow, 'forward', '--print-port', '-x', `http://${LOOPBACK}:${squidPort}`, '-L', `${LOOPBACK}:0:${LOOPBACK}:${t}`],
    },
  ];
}
