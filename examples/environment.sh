# Proxy variables as burrow reads them (upper case wins over lower case, as in Go and tsh).
# Put credentials in the URL percent-encoded: ":" is %3A, "@" is %40, space is %20, "/" is %2F.
export HTTPS_PROXY='http://alice:p%40ss%20word@proxy.corp:8080'
# Go's NO_PROXY rules: "d.com" matches d.com and subdomains, ".d.com" subdomains only, "host:22" one port only,
# CIDR ranges match IP-literal targets only. Here: ssh to the jump host directly, everything else via the proxy.
export NO_PROXY='jump.ecmwf.int:22,.intra.example.org,10.0.0.0/8'
# burrow-only: a chain, first hop first (tsh and curl ignore BURROW_PROXY).
# export BURROW_PROXY='http://proxy.corp:8080,socks5h://bastion.example.net:1080'
