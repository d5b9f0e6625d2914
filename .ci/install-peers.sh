#!/usr/bin/env bash
# Installs the real peers that test/interop talks to (squid, dante, microsocks, tinyproxy, OpenSSH) and the anchor
# tools it compares burrow with (corkscrew, ncat, socat, nc, proxytunnel, connect-proxy). Debian 12, as root.
# Idempotent: safe to run on a machine where everything is already installed.
#
# Nothing here starts a daemon or changes a daemon's system-wide configuration: the tests start their own instances
# with configs in per-test temp dirs (peers/, one module per daemon).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-peers.sh: must run as root (apt-get, useradd)" >&2
  exit 1
fi

# Keep package installation from starting squid, danted, tinyproxy or sshd as system services (exit 101 = "action
# forbidden" for invoke-rc.d). Only written when absent, so an existing policy is left alone.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
fi

PACKAGES=(
  squid               # HTTP CONNECT proxy (squid 5.7), with /usr/lib/squid/basic_ncsa_auth
  dante-server        # danted: SOCKS4/5, username auth against the system password database
  microsocks          # tiny SOCKS5, -u/-P auth
  tinyproxy           # small HTTP CONNECT proxy
  stunnel4            # a real TLS terminator: the https:// proxy (stunnel in front of squid) in test/interop/system-ca.test.ts
  ca-certificates     # update-ca-certificates: that test installs a test CA into the system store (and removes it)
  openssl             # test CAs and certificates (test/helpers/tls-proxy.ts)
  openssh-server      # sshd as the real SSH target; also brings sftp-server, which scp uses
  openssh-client      # ssh, scp, ssh-keygen
  corkscrew           # anchors: ProxyCommand tools the interop suite proves the peers with
  ncat
  socat
  netcat-openbsd
  proxytunnel
  connect-proxy
  passwd              # useradd, chpasswd
  util-linux          # unshare: dante gets its own /etc/hosts in a private mount namespace
  mount               # mount --bind inside that namespace
  git                 # burrow exec -- git ls-remote ssh://… (test/integration/exec.test.ts, test/interop/wrap.test.ts)
  golang-go           # builds the tsh stand-in (test/fixtures/tsh-standin) with Go's own proxy code
  python3             # test/helpers/pipe-harness.py (pipe(2) stdio, as OpenSSH gives a ProxyCommand), with-tty.py
  procps              # ps: connect.test.ts checks that no `burrow connect` outlives its ssh session
  iproute2            # ss, for humans debugging a run
  krb5-kdc            # an MIT KDC for the Negotiate (Kerberos) tests; the realm is made per run in a temp dir
  krb5-admin-server   # kadmin.local, kdb5_util
  krb5-user           # kinit, klist
  dbus                # dbus-run-session: a private session bus to write GNOME proxy settings with gsettings
  dconf-service       # dconf's D-Bus service (gsettings writes through it)
  dconf-gsettings-backend  # gsettings' dconf backend (reads ~/.config/dconf/user directly)
  gsettings-desktop-schemas  # the org.gnome.system.proxy schema
  libglib2.0-bin      # gsettings itself
  libkrb5-dev         # headers for the optional `kerberos` npm package, built by `npm ci` (so install this first)
  python3             # test/helpers/with-tty.py (the /dev/tty prompt tests)
  curl                # burrow exec -- curl (test/integration/exec.test.ts), curl through forward (test/interop)
  ca-certificates     # update-ca-certificates for test/interop/system-ca.test.ts
  python3-impacket    # peers/ntlm-proxy.py verifies burrow's NTLMv2 responses with impacket (independent of burrow)
)

# Tests that route by name through a socks5:// proxy (local DNS) or take a direct path need a name other than
# localhost for 127.0.0.1 (Go, and so tsh, never proxies localhost or loopback IPs; REFERENCE.md §3). Fresh
# containers often have none: add one, once. Nothing else in /etc/hosts is touched.
if ! awk '$1 == "127.0.0.1" { for (i = 2; i <= NF; i++) if ($i !~ /^localhost/) found = 1 } END { exit !found }' /etc/hosts 2>/dev/null; then
  echo '127.0.0.1 burrow-loopback.test' >> /etc/hosts
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-peers.sh: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-peers.sh: all packages present"
fi

# sshd's privilege separation directory (normally made by the systemd unit, which never runs here).
mkdir -p /run/sshd
chmod 0755 /run/sshd

# A system user for dante's `socksmethod: username`, which checks the system password database. The password is
# public on purpose (peers/dante.ts, DANTE_USER/DANTE_PASSWORD); the account has no shell and no home.
BURROWTEST_PASSWORD='d@nte p4ss:1'
if ! id -u burrowtest >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin burrowtest
fi
echo "burrowtest:${BURROWTEST_PASSWORD}" | chpasswd

echo "install-peers.sh: done"
