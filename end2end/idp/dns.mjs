// Test DNS server for the Playwright SSO domain-verification tests: authoritative for the TXT
// records the tests publish (NXDOMAIN for any other name), on UDP 127.0.0.1:{DNS_PORT}, built on
// dns2. Scimpad's --dns-resolver points here, so verification runs real DNS traffic and never
// touches the internet. Tests publish and withdraw records through a small HTTP control endpoint
// on 127.0.0.1:{DNS_CONTROL_PORT}. Everything lives in memory. Test-only.
//
//   GET    /healthz      200 ok (Playwright's webServer.url)
//   PUT    /txt/{name}   body {"values": ["…", …]}: the TXT values at {name}, replacing any
//   DELETE /txt/{name}   withdraws them
//
// Env: DNS_PORT (default 9030), DNS_CONTROL_PORT (default 9031).

import * as http from 'node:http';
import dns2 from 'dns2';

import { sendText } from './users.mjs';

const { Packet } = dns2;
const PORT = Number(process.env.DNS_PORT || 9030);
const CONTROL_PORT = Number(process.env.DNS_CONTROL_PORT || 9031);

/** TXT values by lower-case name without the trailing dot. */
const records = new Map();
const key = (name) => name.replace(/\.$/, '').toLowerCase();

const server = dns2.createServer({
  udp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    for (const question of request.questions) {
      const values = records.get(key(question.name));
      if (!values) {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
      } else if (question.type === Packet.TYPE.TXT) {
        for (const data of values) {
          response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 0, data });
        }
      }
    }
    send(response);
  },
});
server.on('requestError', (error) => console.error('dns: undecodable query', error.message));
await server.listen({ udp: { port: PORT, address: '127.0.0.1' } });

async function readJson(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) throw new Error('body too large');
  }
  return JSON.parse(body || '{}');
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${CONTROL_PORT}`);
  if (req.method === 'GET' && url.pathname === '/healthz') return sendText(res, 200, 'ok');
  const match = url.pathname.match(/^\/txt\/([^/]+)$/);
  if (!match) return sendText(res, 404, 'not found');
  const name = key(decodeURIComponent(match[1]));
  try {
    if (req.method === 'PUT') {
      const { values } = await readJson(req);
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string' && v.length <= 255)) {
        return sendText(res, 400, 'values: an array of strings of at most 255 characters');
      }
      records.set(name, values);
      return sendText(res, 204, '');
    }
    if (req.method === 'DELETE') {
      records.delete(name);
      return sendText(res, 204, '');
    }
    return sendText(res, 405, 'method not allowed');
  } catch (error) {
    return sendText(res, 400, String(error.message));
  }
}).listen(CONTROL_PORT, '127.0.0.1', () => {
  console.log(`dns test server listening udp=127.0.0.1:${PORT} control=http://127.0.0.1:${CONTROL_PORT}`);
});
