import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WSServerError } from '../src/errors.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  computeAcceptKey,
  parseHeaderLines,
  selectSubprotocol,
  validateUpgradeRequest,
  type HandshakeRejection,
  type HandshakeRequest,
  type UpgradeRequestLike,
} from '../src/handshake.js';
import { negotiatePermessageDeflate } from '../src/protocol/deflate-negotiation.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A valid request (RFC 6455 1.3's example), with `changes` applied; a null value removes a header. */
function request(
  changes: Record<string, string | null> = {},
  rest: Partial<Omit<UpgradeRequestLike, 'headers'>> = {},
): UpgradeRequestLike {
  const headers: Record<string, string> = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
  };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  return { method: 'GET', httpVersion: '1.1', url: '/chat', headers: headers as IncomingHttpHeaders, ...rest };
}

function accepted(result: HandshakeRequest | HandshakeRejection): HandshakeRequest {
  if (!result.ok) throw new Error(`rejected: ${result.status} ${result.reason}`);
  return result;
}

function rejected(result: HandshakeRequest | HandshakeRejection): HandshakeRejection {
  if (result.ok) throw new Error('accepted');
  return result;
}

describe('computeAcceptKey', () => {
  it('answers the RFC 6455 example', () => {
    expect(computeAcceptKey(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('validateUpgradeRequest: accepted requests', () => {
  it('returns everything the WebSocketOpenRequest event needs', () => {
    const req = request(
      {
        origin: 'http://example.com',
        'sec-websocket-protocol': 'chat, superchat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      },
      {
        url: '/chat?room=1',
        rawHeaders: [
          'Host', 'server.example.com',
          'Upgrade', 'websocket',
          'Connection', 'Upgrade',
          'Sec-WebSocket-Key', KEY,
          'Origin', 'http://example.com',
          'Sec-WebSocket-Protocol', 'chat, superchat',
          'Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits',
          'Sec-WebSocket-Version', '13',
        ],
      },
    );
    expect(accepted(validateUpgradeRequest(req))).toEqual({
      ok: true,
      key: KEY,
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      subprotocols: ['chat', 'superchat'],
      extensionsHeader: 'permessage-deflate; client_max_window_bits',
      extensionOffers: [{ name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: null }] }],
      origin: 'http://example.com',
      host: 'server.example.com',
      requestUri: '/chat?room=1',
      requestHeaders: [
        'Host: server.example.com',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${KEY}`,
        'Origin: http://example.com',
        'Sec-WebSocket-Protocol: chat, superchat',
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
        'Sec-WebSocket-Version: 13',
      ].join('\r\n'),
    });
  });

  it('defaults: no subprotocols, extensions or origin', () => {
    const r = accepted(validateUpgradeRequest(request()));
    expect(r.subprotocols).toEqual([]);
    expect(r.extensionsHeader).toBe('');
    expect(r.extensionOffers).toEqual([]);
    expect(r.origin).toBe('');
  });

  it('builds requestHeaders from the parsed headers when rawHeaders is missing', () => {
    const r = accepted(validateUpgradeRequest(request({ 'x-a': 'b' })));
    expect(r.requestHeaders.split('\r\n')).toContain('x-a: b');
    expect(r.requestHeaders.split('\r\n')).toContain('sec-websocket-version: 13');
  });

  it.each([
    ['Upgrade in another case', { upgrade: 'WebSocket' }],
    ['Upgrade in a list', { upgrade: 'foo/2, websocket' }],
    ['Connection in a list', { connection: 'keep-alive, Upgrade' }],
    ['Connection in lower case', { connection: 'upgrade' }],
    ['Connection list without spaces', { connection: 'keep-alive,upgrade' }],
  ])('accepts %s', (_label, changes) => {
    expect(validateUpgradeRequest(request(changes)).ok).toBe(true);
  });

  it('accepts HTTP versions after 1.1', () => {
    expect(validateUpgradeRequest(request({}, { httpVersion: '1.2' })).ok).toBe(true);
    expect(validateUpgradeRequest(request({}, { httpVersion: '2.0' })).ok).toBe(true);
  });

  it('takes the legacy Sec-WebSocket-Origin when Origin is absent', () => {
    expect(accepted(validateUpgradeRequest(request({ 'sec-websocket-origin': 'http://a' }))).origin).toBe('http://a');
    expect(
      accepted(validateUpgradeRequest(request({ origin: 'http://b', 'sec-websocket-origin': 'http://a' }))).origin,
    ).toBe('http://b');
  });

  it('ignores empty elements of the subprotocol list', () => {
    expect(accepted(validateUpgradeRequest(request({ 'sec-websocket-protocol': ', a,,b ,' }))).subprotocols).toEqual([
      'a',
      'b',
    ]);
  });

  it('keeps offers of unknown extensions (negotiation ignores them)', () => {
    expect(
      accepted(validateUpgradeRequest(request({ 'sec-websocket-extensions': 'x-foo; bar="baz"' }))).extensionOffers,
    ).toEqual([{ name: 'x-foo', params: [{ name: 'bar', value: 'baz' }] }]);
  });

  it('joins repeated headers given as arrays', () => {
    const req = request();
    const headers = { ...req.headers, 'sec-websocket-protocol': ['a', 'b'] } as unknown as IncomingHttpHeaders;
    expect(accepted(validateUpgradeRequest({ ...req, headers })).subprotocols).toEqual(['a', 'b']);
  });
});

describe('validateUpgradeRequest: rejected requests', () => {
  it.each(['POST', 'HEAD', 'get', undefined])('method %s → 405 with Allow: GET', (method) => {
    const r = rejected(validateUpgradeRequest(request({}, { method })));
    expect(r.status).toBe(405);
    expect(r.headers).toBe('Allow: GET');
  });

  it.each(['1.0', '0.9', '', 'x.y', '1'])('HTTP version "%s" → 400', (httpVersion) => {
    const r = rejected(validateUpgradeRequest(request({}, { httpVersion })));
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/HTTP\/1\.1/);
  });

  it.each<[string, Record<string, string | null>, RegExp]>([
    ['no Host', { host: null }, /Host/],
    ['an empty Host', { host: '' }, /Host/],
    ['no Upgrade', { upgrade: null }, /Upgrade/],
    ['Upgrade: h2c', { upgrade: 'h2c' }, /Upgrade/],
    ['Upgrade: websocket/13', { upgrade: 'websocket/13' }, /Upgrade/],
    ['Upgrade: websockets', { upgrade: 'websockets' }, /Upgrade/],
    ['no Connection', { connection: null }, /Connection/],
    ['Connection: keep-alive', { connection: 'keep-alive' }, /Connection/],
    ['Connection: upgraded', { connection: 'upgraded' }, /Connection/],
    ['no Sec-WebSocket-Key', { 'sec-websocket-key': null }, /Missing Sec-WebSocket-Key/],
    ['an empty key', { 'sec-websocket-key': '' }, /Sec-WebSocket-Key/],
    ['a key of 15 bytes', { 'sec-websocket-key': Buffer.alloc(15, 1).toString('base64') }, /Sec-WebSocket-Key/],
    ['a key of 17 bytes', { 'sec-websocket-key': Buffer.alloc(17, 1).toString('base64') }, /Sec-WebSocket-Key/],
    ['a key without padding', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ' }, /Sec-WebSocket-Key/],
    ['a base64url key', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZ-_=' }, /Sec-WebSocket-Key/],
    ['a key with a space', { 'sec-websocket-key': 'dGhlIHNhbXBsZ SBub25jZQ==' }, /Sec-WebSocket-Key/],
    ['two keys (joined by Node)', { 'sec-websocket-key': `${KEY}, ${KEY}` }, /Sec-WebSocket-Key/],
    ['a subprotocol with a space', { 'sec-websocket-protocol': 'a b' }, /Sec-WebSocket-Protocol/],
    ['a subprotocol with a separator', { 'sec-websocket-protocol': 'chat/1.0' }, /Sec-WebSocket-Protocol/],
    ['a non-ASCII subprotocol', { 'sec-websocket-protocol': 'ch\u00e4t' }, /Sec-WebSocket-Protocol/],
    ['a duplicated subprotocol', { 'sec-websocket-protocol': 'chat, superchat, chat' }, /Duplicate subprotocol/],
    ['a malformed extensions header', { 'sec-websocket-extensions': 'permessage-deflate;' }, /Sec-WebSocket-Extensions/],
    ['an extension with a bad quoted value', { 'sec-websocket-extensions': 'foo; a="b c"' }, /Sec-WebSocket-Extensions/],
  ])('%s → 400', (_label, changes, reason) => {
    const r = rejected(validateUpgradeRequest(request(changes)));
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(reason);
    expect(r.headers).toBe('');
  });

  it.each<[string, string | null]>([
    ['missing', null],
    ['8', '8'],
    ['12', '12'],
    ['14', '14'],
    ['013', '013'],
    ['13, 13 (two headers)', '13, 13'],
    ['13, 8', '13, 8'],
  ])('Sec-WebSocket-Version %s → 426 with Sec-WebSocket-Version: 13', (_label, version) => {
    const r = rejected(validateUpgradeRequest(request({ 'sec-websocket-version': version })));
    expect(r.status).toBe(426);
    expect(parseHeaderLines(r.headers)).toEqual([
      { name: 'Upgrade', value: 'websocket' },
      { name: 'Sec-WebSocket-Version', value: '13' },
    ]);
    expect(r.reason).toMatch(version === null ? /Missing Sec-WebSocket-Version/ : /Unsupported WebSocket version/);
  });

  it('checks the version before the key, so old-protocol clients learn the version', () => {
    expect(rejected(validateUpgradeRequest(request({ 'sec-websocket-version': '8', 'sec-websocket-key': null }))).status).toBe(426);
  });

  it('never echoes client input in the reason', () => {
    const r = rejected(validateUpgradeRequest(request({ 'sec-websocket-version': '<script>' })));
    expect(r.reason).not.toContain('<script>');
  });
});

describe('selectSubprotocol', () => {
  it.each<[string[], string, string | null]>([
    [['chat', 'superchat'], 'superchat', 'superchat'],
    [['chat', 'superchat'], ' chat ', 'chat'],
    [['chat'], 'chat', 'chat'], // unchanged single offer: agreed (browsers require the echo)
    [['chat', 'superchat'], 'chat, superchat', null], // unchanged list: nothing chosen
    [['chat', 'superchat'], 'chat,superchat', null],
    [['chat', 'superchat'], '', null],
    [['chat', 'superchat'], 'other', null], // not offered
    [['chat'], 'Chat', null], // case-sensitive
    [[], 'chat', null],
    [[], '', null],
  ])('offered %j, chosen %j → %j', (offered, chosen, expected) => {
    expect(selectSubprotocol(offered, chosen)).toBe(expected);
  });
});

describe('parseHeaderLines', () => {
  it('accepts CRLF and LF, drops blank lines, trims values', () => {
    expect(parseHeaderLines('A: 1\r\n\r\nB:2\n  \nC:   three  \n')).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'C', value: 'three' },
    ]);
    expect(parseHeaderLines('')).toEqual([]);
    expect(parseHeaderLines('X-Empty:')).toEqual([{ name: 'X-Empty', value: '' }]);
  });

  it.each([
    ['a bare CR', 'A: 1\rB: 2'],
    ['a trailing bare CR', 'A: 1\r'],
    ['a folded line', 'A: 1\r\n  continued'],
    ['a line without a colon', 'Just text'],
    ['an empty name', ': value'],
    ['a name with a space', 'Bad Name: 1'],
    ['whitespace before the colon', 'Name : 1'],
    ['a NUL in a value', 'A: x\u0000y'],
    ['a DEL in a value', 'A: x\u007fy'],
    ['a character beyond Latin-1', 'A: \u20ac'],
  ])('rejects %s', (_label, text) => {
    expect(() => parseHeaderLines(text)).toThrow(WSServerError);
    try {
      parseHeaderLines(text);
    } catch (err) {
      expect((err as WSServerError).code).toBe(10022);
    }
  });
});

describe('buildAcceptResponse', () => {
  const accept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

  it('writes the minimal 101', () => {
    expect(buildAcceptResponse({ accept }).toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        '\r\n',
    );
  });

  it('adds subprotocol, extensions and extra headers in that order', () => {
    expect(
      buildAcceptResponse({
        accept,
        subprotocol: 'chat',
        extensions: 'permessage-deflate; client_no_context_takeover',
        extraHeaders: 'X-One: 1\n\nSet-Cookie: a=b; Path=/\r\n',
      }).toString('latin1'),
    ).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n' +
        'X-One: 1\r\n' +
        'Set-Cookie: a=b; Path=/\r\n' +
        '\r\n',
    );
  });

  it('treats null or empty subprotocol/extensions as absent', () => {
    expect(buildAcceptResponse({ accept, subprotocol: null, extensions: '' })).toEqual(buildAcceptResponse({ accept }));
  });

  it.each<[string, Parameters<typeof buildAcceptResponse>[0]]>([
    ['a malformed accept value', { accept: 'nope' }],
    ['an accept value with CRLF', { accept: `${accept}\r\nX: y` }],
    ['a subprotocol with CRLF', { accept, subprotocol: 'chat\r\nSet-Cookie: x' }],
    ['a subprotocol that is not a token', { accept, subprotocol: 'a b' }],
    ['extensions with CRLF', { accept, extensions: 'permessage-deflate\r\nX: y' }],
    ['extra headers with a bare CR', { accept, extraHeaders: 'X: a\rY: b' }],
    ['malformed extra headers', { accept, extraHeaders: 'not a header' }],
    ['extra headers setting Sec-WebSocket-Accept', { accept, extraHeaders: 'Sec-WebSocket-Accept: x' }],
    ['extra headers setting Connection', { accept, extraHeaders: 'connection: keep-alive' }],
    ['extra headers setting Upgrade', { accept, extraHeaders: 'Upgrade: h2c' }],
    ['extra headers setting Sec-WebSocket-Protocol', { accept, extraHeaders: 'Sec-WebSocket-Protocol: x' }],
    ['extra headers setting Content-Length', { accept, extraHeaders: 'Content-Length: 5' }],
  ])('refuses %s', (_label, options) => {
    expect(() => buildAcceptResponse(options)).toThrow(WSServerError);
  });
});

describe('buildRejectResponse', () => {
  it('writes a complete 400', () => {
    expect(buildRejectResponse(400, 'Missing Host header').toString('utf8')).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 20\r\n' +
        '\r\n' +
        'Missing Host header\n',
    );
  });

  it('uses the reason phrase as body when no reason is given', () => {
    const text = buildRejectResponse(503).toString('utf8');
    expect(text.startsWith('HTTP/1.1 503 Service Unavailable\r\n')).toBe(true);
    expect(text.endsWith('\r\n\r\nService Unavailable\n')).toBe(true);
  });

  it('carries application headers (401 + WWW-Authenticate)', () => {
    const text = buildRejectResponse(401, '', 'WWW-Authenticate: Basic realm="Secure Realm"').toString('utf8');
    expect(text).toBe(
      'HTTP/1.1 401 Unauthorized\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 13\r\n' +
        'WWW-Authenticate: Basic realm="Secure Realm"\r\n' +
        '\r\n' +
        'Unauthorized\n',
    );
  });

  it('a 426 with Upgrade also lists upgrade in Connection', () => {
    const r = rejected(validateUpgradeRequest(request({ 'sec-websocket-version': '8' })));
    const text = buildRejectResponse(r.status, r.reason, r.headers).toString('utf8');
    expect(text).toContain('HTTP/1.1 426 Upgrade Required\r\n');
    expect(text).toContain('\r\nConnection: Upgrade, close\r\n');
    expect(text).toContain('\r\nSec-WebSocket-Version: 13\r\n');
  });

  it('counts Content-Length in bytes', () => {
    const text = buildRejectResponse(403, 'Zugriff verweigert: Ursprung nicht erlaubt \u2013 \u00fc').toString('utf8');
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
  });

  it('names unknown statuses "Unknown"', () => {
    expect(buildRejectResponse(499).toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 499 Unknown');
  });

  it.each([101, 100, 199, 600, 0, 404.5, Number.NaN])('refuses status %s', (status) => {
    expect(() => buildRejectResponse(status)).toThrow(WSServerError);
  });

  it.each(['Connection: keep-alive', 'Content-Length: 0', 'Content-Type: text/html', 'Transfer-Encoding: chunked', 'X: a\rb'])(
    'refuses extra headers %j',
    (extra) => {
      expect(() => buildRejectResponse(403, 'no', extra)).toThrow(WSServerError);
    },
  );
});

describe('over real sockets', () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      const result = validateUpgradeRequest(req);
      if (!result.ok) {
        socket.end(buildRejectResponse(result.status, result.reason, result.headers));
        return;
      }
      const url = new URL(result.requestUri, 'http://x');
      if (url.pathname === '/deny') {
        socket.end(buildRejectResponse(401, 'Who are you?', 'WWW-Authenticate: Basic realm="Secure Realm"'));
        return;
      }
      const deflate = negotiatePermessageDeflate(result.extensionOffers, {
        serverMaxWindowBits: Number(url.searchParams.get('smwb') ?? 15),
      });
      const subprotocol = selectSubprotocol(result.subprotocols, url.searchParams.get('pick') ?? result.subprotocols.join(','));
      socket.write(
        buildAcceptResponse({
          accept: result.accept,
          subprotocol,
          extensions: deflate?.responseHeader ?? null,
          extraHeaders: `X-Request-Headers: ${Buffer.from(result.requestHeaders).toString('base64')}`,
        }),
      );
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function connect(path: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}) {
    return new Promise<{ ws: WebSocket; res: http.IncomingMessage | null; status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, options);
      ws.on('upgrade', (res) => {
        ws.on('open', () => {
          resolve({ ws, res, status: 101, body: '' });
          ws.terminate();
        });
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ ws, res, status: res.statusCode ?? 0, body }));
      });
      ws.on('error', reject);
    });
  }

  it('a ws client accepts the 101: accept key, subprotocol and permessage-deflate', async () => {
    const { ws, res } = await connect('/chat?pick=superchat&smwb=10', ['chat', 'superchat'], {
      perMessageDeflate: true,
      headers: { Origin: 'http://example.com' },
    });
    expect(ws.protocol).toBe('superchat');
    expect(res!.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_max_window_bits=10');
    expect(ws.extensions).toBe('permessage-deflate'); // the client took the extension
    const requestHeaders = Buffer.from(String(res!.headers['x-request-headers']), 'base64').toString();
    expect(requestHeaders).toMatch(/^Sec-WebSocket-Version: 13\r\n/m);
    expect(requestHeaders).toMatch(/^Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n/m);
    expect(requestHeaders).toMatch(/^Origin: http:\/\/example\.com\r\n/m);
    expect(requestHeaders).toMatch(/^Host: 127\.0\.0\.1:\d+$/m);
  });

  it('a single offered subprotocol left unchanged is agreed', async () => {
    const { ws } = await connect('/chat', ['only']);
    expect(ws.protocol).toBe('only');
  });

  it('a ws client offering server_max_window_bits=8 gets 8 answered', async () => {
    const { ws, res } = await connect('/chat', [], { perMessageDeflate: { serverMaxWindowBits: 8 } });
    expect(res!.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_max_window_bits=8');
    expect(ws.extensions).toBe('permessage-deflate');
  });

  it('an application rejection reaches the client with status, headers and body', async () => {
    const { status, res, body } = await connect('/deny');
    expect(status).toBe(401);
    expect(res!.statusMessage).toBe('Unauthorized');
    expect(res!.headers['www-authenticate']).toBe('Basic realm="Secure Realm"');
    expect(res!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(body).toBe('Who are you?\n');
  });

  it('a version-8 client gets 426 with Sec-WebSocket-Version: 13', async () => {
    const { status, res } = await connect('/chat', [], { protocolVersion: 8 });
    expect(status).toBe(426);
    expect(res!.headers['sec-websocket-version']).toBe('13');
    expect(res!.headers.upgrade).toBe('websocket');
  });

  it('a raw request with a bad key gets a 400 that Node parses', async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(response).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 45\r\n\r\nSec-WebSocket-Key must be 16 bytes in base64\n',
    );
  });
});
