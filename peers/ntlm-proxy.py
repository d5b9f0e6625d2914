# An HTTP CONNECT proxy that offers NTLM only and verifies the client's NTLMv2 response with an independent
# implementation: impacket (Debian's python3-impacket) computes NTOWFv2 from the configured password and the
# NTProofStr over the server challenge and the client's blob, as a Windows domain controller would (MS-NLMP 3.3.2).
# A wrong password, a wrong user or domain, an NTLMv1 response or a type 3 on another connection is refused with a
# 407 and the connection closed. Nothing here is shared with burrow's NTLM code.
#
# Usage: python3 ntlm-proxy.py PORT; the credentials come from the environment (NTLM_USER, NTLM_DOMAIN,
# NTLM_PASSWORD), not argv. One line per request on stdout: "request N scheme=none|Basic|NTLM1|NTLM3|other",
# then "verified user DOMAIN\\USER" or "refused REASON" for each type 3, so tests can see what each request carried.
import asyncio
import base64
import os
import struct
import sys
import time

from impacket import ntlm

USER = os.environ["NTLM_USER"]
DOMAIN = os.environ["NTLM_DOMAIN"]
PASSWORD = os.environ["NTLM_PASSWORD"]

NEGOTIATE_UNICODE = 0x00000001
REQUEST_TARGET = 0x00000004
NEGOTIATE_NTLM = 0x00000200
TARGET_TYPE_DOMAIN = 0x00010000
EXTENDED_SESSIONSECURITY = 0x00080000
NEGOTIATE_TARGET_INFO = 0x00800000
NEGOTIATE_128 = 0x20000000
NEGOTIATE_56 = 0x80000000

counter = 0


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def av_pairs():
    def pair(av_id, value):
        return struct.pack("<HH", av_id, len(value)) + value

    filetime = (int(time.time()) + 11644473600) * 10_000_000
    return (
        pair(2, DOMAIN.upper().encode("utf-16le"))
        + pair(1, b"P\x00R\x00O\x00X\x00Y\x00")
        + pair(4, b"c\x00o\x00r\x00p\x00")
        + pair(7, struct.pack("<Q", filetime))
        + pair(0, b"")
    )


def challenge_message(server_challenge):
    name = DOMAIN.upper().encode("utf-16le")
    info = av_pairs()
    flags = (
        NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_NTLM | TARGET_TYPE_DOMAIN | EXTENDED_SESSIONSECURITY
        | NEGOTIATE_TARGET_INFO | NEGOTIATE_128 | NEGOTIATE_56
    )
    head = b"NTLMSSP\x00" + struct.pack("<I", 2)
    head += struct.pack("<HHI", len(name), len(name), 48)
    head += struct.pack("<I", flags) + server_challenge + b"\x00" * 8
    head += struct.pack("<HHI", len(info), len(info), 48 + len(name))
    return head + name + info


def verify(message, server_challenge):
    """Returns None when the type 3 proves knowledge of PASSWORD for USER in DOMAIN, else why not."""
    response = ntlm.NTLMAuthChallengeResponse()
    response.fromString(message)
    flags = response["flags"]
    encoding = "utf-16le" if flags & NEGOTIATE_UNICODE else "latin-1"
    user = response["user_name"].decode(encoding)
    domain = response["domain_name"].decode(encoding)
    nt = response["ntlm"]
    if len(nt) <= 24:
        return "an NTLMv1 response (NTLMv2 required)"
    if user.upper() != USER.upper() or domain.upper() != DOMAIN.upper():
        return "unknown user %s\\%s" % (domain, user)
    key = ntlm.NTOWFv2(user, PASSWORD, domain)
    proof = ntlm.hmac_md5(key, server_challenge + nt[16:])
    if proof != nt[:16]:
        return "NTProofStr mismatch for %s\\%s (wrong password)" % (domain, user)
    return None


async def read_head(reader):
    try:
        data = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = data.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    return lines[0], headers


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def reply(writer, status, headers=(), close=False):
    lines = [status] + list(headers) + ["Content-Length: 0", "Connection: " + ("close" if close else "keep-alive")]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    if close:
        writer.close()


async def handle(reader, writer):
    global counter
    server_challenge = None
    while True:
        head = await read_head(reader)
        if head is None:
            writer.close()
            return
        request_line, headers = head
        counter += 1
        auth = headers.get("proxy-authorization", "")
        scheme = auth.split(" ")[0] if auth else "none"
        token = base64.b64decode(auth.split(" ", 1)[1]) if scheme == "NTLM" and " " in auth else b""
        kind = struct.unpack("<I", token[8:12])[0] if len(token) >= 12 and token[:8] == b"NTLMSSP\x00" else 0
        say("request %d scheme=%s" % (counter, scheme + (str(kind) if scheme == "NTLM" else "")))
        if scheme == "NTLM" and kind == 1:
            server_challenge = os.urandom(8)
            type2 = base64.b64encode(challenge_message(server_challenge)).decode()
            await reply(writer, "HTTP/1.1 407 Proxy Authentication Required", ["Proxy-Authenticate: NTLM " + type2])
            continue
        if scheme == "NTLM" and kind == 3 and server_challenge is not None:
            why = verify(token, server_challenge)
            if why is not None:
                say("refused " + why)
                await reply(writer, "HTTP/1.1 407 Proxy Authentication Required", ["Proxy-Authenticate: NTLM"], close=True)
                return
            say("verified user %s\\%s" % (DOMAIN, USER))
            parts = request_line.split(" ")
            host, _, port = parts[1].rpartition(":") if len(parts) > 1 else ("", "", "")
            try:
                up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            except (OSError, ValueError) as error:
                say("upstream failed %s" % error)
                await reply(writer, "HTTP/1.1 502 Bad Gateway", close=True)
                return
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            writer.close()
            up_writer.close()
            return
        # Anything else (no credentials, Basic, a type 3 out of turn) gets the NTLM-only challenge.
        await reply(writer, "HTTP/1.1 407 Proxy Authentication Required", ["Proxy-Authenticate: NTLM"])


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    say("listening on 127.0.0.1:%s" % sys.argv[1])
    async with server:
        await server.serve_forever()


asyncio.run(main())
