import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listen, type Peer } from './node-peers.ts';

// An HTTP server for PAC URLs (node:http, the server a PAC URL normally names is any web server): each test says
// what to answer per request, and every request is recorded with its headers (the conditional ones included).

export interface PacRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

export interface PacReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** false: no Date header (Node adds one by default, as servers must). */
  sendDate?: boolean;
}

export interface PacServer extends Peer {
  requests: PacRequest[];
}

/** `respond` decides each answer; 'hang' never answers (the connection stays open until close()). */
export async function startPacServer(respond: (request: PacRequest) => PacReply | 'hang'): Promise<PacServer> {
  const requests: PacRequest[] = [];
  const server = createServer((req, res) => {
    const request = { path: req.url ?? '', headers: req.headers };
    requests.push(request);
    const reply = respond(request);
    if (reply === 'hang') return;
    res.sendDate = reply.sendDate ?? true;
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/x-ns-proxy-autoconfig', ...reply.headers }).end(reply.body);
  });
  const peer = await listen(server, 'http');
  return Object.assign(peer, { requests });
}
