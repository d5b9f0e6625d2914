// The interop suite's one import for real peers: squid, dante, microsocks, tinyproxy, OpenSSH's sshd and client, and
// an MIT KDC, each started on 127.0.0.1 with a free port, its own temp dir (config, pid file, logs) and nothing
// changed in /etc (Debian 12 as root: .ci/install-peers.sh installs the packages and the `burrowtest` user that
// dante's username auth checks). The daemons live in peers/ (one module each, shared with bench/); this file adds
// the test-only helpers beside them. Each module's header lists the facts about its daemon it depends on.
export { apr1 } from '../../peers/apr1.ts';
export { findBinary, haveBinary, isRoot, missingBinaries, whyCannotRun } from '../../peers/binaries.ts';
export { makeTempDir, tailFile, type Peer } from '../../peers/daemon.ts';
export { DANTE_PASSWORD, DANTE_USER, danteUserExists, startDante, type DanteOptions } from '../../peers/dante.ts';
export { cleanEnv } from '../../peers/env.ts';
export { haveKerberosModule, KDC_REALM, startKdc, type KdcPeer } from '../../peers/kdc.ts';
export { MICROSOCKS_PASSWORD, MICROSOCKS_USER, startMicrosocks, type MicrosocksOptions } from '../../peers/microsocks.ts';
export { canConnect, closedPort, freePort, LOOPBACK } from '../../peers/net.ts';
export { run, type RunOptions, type RunResult } from '../../peers/run.ts';
export { shellQuote } from '../../peers/shell.ts';
export { runScp, runSsh, sshBaseOptions, type SshOptions } from '../../peers/ssh-client.ts';
export { SQUID_PASSWORD, SQUID_USER, startSquid, type SquidOptions, type SquidPeer } from '../../peers/squid.ts';
export { startSshd, type SshdPeer } from '../../peers/sshd.ts';
export { startStunnel, type StunnelOptions } from '../../peers/stunnel.ts';
export { startTinyproxy, type TinyproxyOptions } from '../../peers/tinyproxy.ts';
export { basicAuth, httpConnect, withCredentials, type ConnectAnswer } from './http-connect.ts';
export { replyFor, startReplyAfterEofServer, type ReplyAfterEofServer } from './reply-after-eof.ts';
export { sha256File } from './sha256.ts';
