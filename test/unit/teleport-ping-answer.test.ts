import { describe, expect, it } from 'vitest';
import { parsePingResponse, teleportFromPing } from '../../src/teleport/ping-answer.ts';

const ping = (ssh: Record<string, unknown>, tlsRouting = false) => ({ server_version: '16.0.0', cluster_name: 'c', proxy: { tls_routing_enabled: tlsRouting, ssh } });

describe('teleportFromPing: the SSH address tsh uses', () => {
  it.each([
    ['ssh_public_addr with a port', { ssh_public_addr: 'ssh.example.org:3023' }, 'ssh.example.org:3023'],
    ['ssh_public_addr without a port takes 3023', { ssh_public_addr: 'ssh.example.org' }, 'ssh.example.org:3023'],
    ['the first of a list', { ssh_public_addr: 'a.example.org:4023, b.example.org:5023' }, 'a.example.org:4023'],
    ['listen_addr 0.0.0.0 means the proxy host', { listen_addr: '0.0.0.0:3023' }, 'tele.example.org:3023'],
    ['listen_addr [::] means the proxy host', { listen_addr: '[::]:3024' }, 'tele.example.org:3024'],
    ['listen_addr without a host means the proxy host', { listen_addr: ':3025' }, 'tele.example.org:3025'],
    ['a bracketed IPv6 address', { ssh_public_addr: '[2001:db8::1]:3023' }, '[2001:db8::1]:3023'],
    ['a hostile address is dropped', { ssh_public_addr: 'evil\r\nX: y:3023' }, null],
    ['a bad port is dropped', { ssh_public_addr: 'a.example.org:70000' }, null],
    ['none', {}, null],
  ])('%s', (_name, ssh, expected) => {
    expect(teleportFromPing(ping(ssh), 'tele.example.org', 443)?.ssh_address).toBe(expected);
  });

  it('with TLS routing, SSH goes to the web address', () => {
    expect(teleportFromPing(ping({ public_addr: 'tele.example.org:443' }, true), 'tele.example.org', 3080)).toMatchObject({ tls_routing_enabled: true, ssh_address: 'tele.example.org:443' });
  });

  it('anything but a Teleport answer is null', () => {
    expect(teleportFromPing({ hello: 1 }, 'h', 443)).toBeNull();
    expect(parsePingResponse(Buffer.from('HTTP/1.1 404 Not Found\r\n\r\n{}'), 'h', 443)).toBeNull();
    const body = JSON.stringify(ping({ listen_addr: '0.0.0.0:3023' }));
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    expect(parsePingResponse(Buffer.from(chunked), 'h', 443)?.ssh_address).toBe('h:3023');
  });
});
