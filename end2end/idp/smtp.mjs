// Test SMTP server for the Playwright email tests: receives what Scimpad sends through its
// --smtp-url (plain SMTP on 127.0.0.1:{SMTP_PORT}, built on nodemailer's smtp-server), parses each
// message as a mail client would (mailparser) and keeps it in memory. Tests read the mail through
// a small HTTP control endpoint on 127.0.0.1:{SMTP_CONTROL_PORT}, then follow its links in
// Chromium. Test-only: no authentication, no TLS.
//
//   GET /healthz            200 ok (Playwright's webServer.url)
//   GET /messages?to=ADDR   200 JSON [{to, subject, text}], oldest first, for that recipient
//
// Env: SMTP_PORT (default 9040), SMTP_CONTROL_PORT (default 9041).

import * as http from 'node:http';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

import { sendText } from './users.mjs';

const PORT = Number(process.env.SMTP_PORT || 9040);
const CONTROL_PORT = Number(process.env.SMTP_CONTROL_PORT || 9041);

/** Every message received: the envelope's recipients (lower-case), subject and plain text. */
const messages = [];

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          subject: mail.subject ?? '',
          text: mail.text ?? '',
        });
        callback();
      })
      .catch(callback);
  },
});
smtp.on('error', (error) => console.error('smtp:', error.message));
smtp.listen(PORT, '127.0.0.1');

http.createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${CONTROL_PORT}`);
  if (req.method === 'GET' && url.pathname === '/healthz') return sendText(res, 200, 'ok');
  if (req.method === 'GET' && url.pathname === '/messages') {
    const to = (url.searchParams.get('to') ?? '').toLowerCase();
    return sendText(res, 200, JSON.stringify(messages.filter((m) => m.to.includes(to))), 'application/json');
  }
  return sendText(res, 404, 'not found');
}).listen(CONTROL_PORT, '127.0.0.1', () => {
  console.log(`smtp sink listening smtp=127.0.0.1:${PORT} control=127.0.0.1:${CONTROL_PORT}`);
});
