/**
 * API coverage: walks the member list of the reference (test/fixtures/members.json, a copy of
 * ../shared/api/members.json) and checks that wsworks has every property, method, event,
 * config setting, WSConnection field, Certificate field and error code under the DESIGN's
 * camelCase names, and exercises each one on a real server with a real client.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, ERROR_MESSAGES, SETTINGS, WSConnection, WSServer, WSServerError } from '../src/index.js';
import type { WSServerEvents } from '../src/events.js';
import { startServer, type TestServer } from './helpers/server.js';
import { codeOf, connectPeer, openWs, syncCodeOf, waitUntil, type Peer } from './helpers/ws-client.js';

interface Members {
  properties: string[];
  methods: string[];
  events: string[];
  configSettings: string[];
  connectionFields: string[];
  certificateFields: string[];
  errors: Record<string, string>;
}

const FIXTURE = new URL('./fixtures/members.json', import.meta.url);
const SHARED = new URL('../../shared/api/members.json', import.meta.url);
const members = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Members;

/**
 * The DESIGN's naming: a leading capital becomes lower case, a leading acronym too unless its
 * last letter starts the next word (`SSLCert` → `sslCert`, `UseSSL` → `useSSL`, `EOM` → `eom`).
 */
export function camel(name: string): string {
  const run = /^[A-Z]+/.exec(name)?.[0] ?? '';
  if (run.length <= 1) return name.charAt(0).toLowerCase() + name.slice(1);
  if (run.length === name.length) return name.toLowerCase();
  const next = name.charAt(run.length);
  if (/[a-z]/.test(next)) return run.slice(0, -1).toLowerCase() + name.slice(run.length - 1);
  return run.toLowerCase() + name.slice(run.length);
}

describe('the member list', () => {
  it('is the one the reference ships (when ../shared is present)', () => {
    if (!existsSync(SHARED)) return; // a clone without the shared folder uses the fixture alone
    expect(JSON.parse(readFileSync(SHARED, 'utf8'))).toEqual(members);
  });

  it('has the counts the issue names', () => {
    expect(members.properties).toHaveLength(9);
    expect(members.methods).toHaveLength(14);
    expect(members.events).toHaveLength(12);
    expect(members.configSettings).toHaveLength(52);
    expect(members.connectionFields).toHaveLength(19);
  });

  it('maps names to camelCase as the DESIGN shows', () => {
    expect(camel('ConnectionBacklog')).toBe('connectionBacklog');
    expect(camel('SSLCert')).toBe('sslCert');
    expect(camel('UseSSL')).toBe('useSSL');
    expect(camel('DataToSendB')).toBe('dataToSendB');
    expect(camel('SSLStatus')).toBe('sslStatus');
    expect(camel('RequestURI')).toBe('requestURI');
    expect(camel('EOM')).toBe('eom');
    expect(camel('ThumbprintMD5')).toBe('thumbprintMD5');
  });
});

// ---- Properties --------------------------------------------------------------------------

describe('properties', () => {
  /** The reference's default of each property on a new server. */
  const DEFAULTS: Record<string, unknown> = {
    connectionBacklog: 5,
    defaultTimeout: 0,
    listening: false,
    localHost: '',
    localPort: 0,
    sslAuthenticateClients: false,
    useSSL: false,
  };

  it.each(members.properties)('%s is an accessor of WSServer', (name) => {
    const key = camel(name);
    const descriptor = Object.getOwnPropertyDescriptor(WSServer.prototype, key);
    expect(descriptor?.get, `WSServer.prototype.${key} getter`).toBeTypeOf('function');
    if (name === 'Connections') expect(descriptor?.set).toBeUndefined();
    else expect(descriptor?.set, `WSServer.prototype.${key} setter`).toBeTypeOf('function');
  });

  it('have the reference defaults on a new server', () => {
    const server = new WSServer();
    for (const [key, value] of Object.entries(DEFAULTS)) expect((server as unknown as Record<string, unknown>)[key], key).toBe(value);
    expect(server.connections).toBeInstanceOf(Map);
    expect(server.connections.size).toBe(0);
    expect(server.sslCert === null || server.sslCert instanceof Certificate).toBe(true);
  });

  it('can be set and read back; out-of-range values are refused with 10022', async () => {
    const server = new WSServer();
    server.connectionBacklog = 64;
    expect(server.connectionBacklog).toBe(64);
    server.defaultTimeout = 7;
    expect(server.defaultTimeout).toBe(7);
    server.localHost = '127.0.0.1';
    expect(server.localHost).toBe('127.0.0.1');
    server.localPort = 0;
    expect(server.localPort).toBe(0);
    server.sslAuthenticateClients = true;
    expect(server.sslAuthenticateClients).toBe(true);
    const cert = new Certificate();
    server.sslCert = cert;
    expect(server.sslCert).toBe(cert);
    server.useSSL = true;
    expect(server.useSSL).toBe(true);
    server.useSSL = false;
    expect(syncCodeOf(() => (server.connectionBacklog = -1))).toBe(10022);
    expect(syncCodeOf(() => (server.defaultTimeout = -1))).toBe(10022);
    expect(syncCodeOf(() => (server.localPort = 70000))).toBe(10022);
    expect(syncCodeOf(() => (server.localPort = 1.5))).toBe(10022);
    // Connections is read-only.
    expect(() => {
      (server as unknown as { connections: unknown }).connections = new Map();
    }).toThrow(TypeError);
  });

  it('Listening = true starts listening and Listening = false stops', async () => {
    const server = new WSServer({ localHost: '127.0.0.1', localPort: 0 });
    try {
      server.listening = true;
      await waitUntil(() => server.listening, 5000, 'listening');
      expect(server.localPort).toBeGreaterThan(0);
      const client = await openWs(`ws://127.0.0.1:${server.localPort}/`);
      await client.close();
      server.listening = false;
      expect(server.listening).toBe(false);
    } finally {
      await server.shutdown();
    }
  });

  it('UseSSL = true without SSLCert makes startListening reject with a WSServerError (282)', async () => {
    const server = new WSServer({ localHost: '127.0.0.1', localPort: 0 });
    server.useSSL = true;
    const err = await startListeningError(server);
    expect(err).toBeInstanceOf(WSServerError);
    expect((err as WSServerError).code).toBe(282);
    expect(server.listening).toBe(false);
  });
});

async function startListeningError(server: WSServer): Promise<unknown> {
  try {
    await server.startListening();
  } catch (err) {
    return err;
  } finally {
    await server.shutdown();
  }
  return null;
}

// ---- Methods -----------------------------------------------------------------------------

describe('methods', () => {
  const TAKES_CONNECTION_ID = new Set(['ChangeLineMode', 'Disconnect', 'Interrupt', 'Ping', 'Send', 'SendBytes', 'SendFile', 'SendText', 'SetUploadStream']);
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startServer();
  });
  afterAll(async () => {
    await ts.close();
  });

  it.each(members.methods)('%s is a method of WSServer', (name) => {
    expect((WSServer.prototype as unknown as Record<string, unknown>)[camel(name)]).toBeTypeOf('function');
  });

  it.each([...TAKES_CONNECTION_ID])('%s refuses an unknown connection id with 126', async (name) => {
    const server = ts.server as unknown as Record<string, (...args: unknown[]) => unknown>;
    const args: Record<string, unknown[]> = {
      ChangeLineMode: ['nope', true],
      Disconnect: ['nope'],
      Interrupt: ['nope'],
      Ping: ['nope'],
      Send: ['nope', Buffer.from('x')],
      SendBytes: ['nope', Buffer.from('x')],
      SendFile: ['nope', '/etc/hostname'],
      SendText: ['nope', 'x'],
      SetUploadStream: ['nope', Readable.from([Buffer.from('x')])],
    };
    expect(await codeOf(() => server[camel(name)]!.call(ts.server, ...args[name]!))).toBe(126);
  });

  it('every method works on a live connection', async () => {
    const { client, id } = await connectPeer(ts);
    const server = ts.server;
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'wsworks-cov-'));
    try {
      const file = join(dir, 'f.bin');
      writeFileSync(file, Buffer.from('file-body'));
      await server.send(id, Buffer.from('send'));
      await server.sendBytes(id, new Uint8Array([1, 2, 3]));
      await server.sendText(id, 'text');
      await server.sendFile(id, file);
      await server.setUploadStream(id, Readable.from([Buffer.from('str'), Buffer.from('eam')]));
      const got = await client.waitForMessages(5);
      expect(got.map((m) => [m.data.toString('latin1'), m.isBinary])).toEqual([
        ['send', true],
        ['\x01\x02\x03', true],
        ['text', false],
        ['file-body', true],
        ['stream', true],
      ]);
      await server.ping(id);
      expect(server.doEvents()).toBeInstanceOf(Promise);
      await server.doEvents();
      server.changeLineMode(id, true);
      expect(server.connections.get(id)!.lineMode).toBe(true);
      server.interrupt(id); // nothing to interrupt: a no-op, the connection stays
      expect(server.connections.get(id)!.connected).toBe(true);
      expect(server.config('BufferMessage')).toBe('False');
      server.disconnect(id);
      expect((await client.closed).code).toBe(1000);
      server.stopListening();
      expect(server.listening).toBe(false);
      await server.startListening();
      expect(server.listening).toBe(true);
      ts.port = server.localPort;
      ts.url = `ws://127.0.0.1:${server.localPort}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shutdown stops listening and closes every connection', async () => {
    const { client } = await connectPeer(ts);
    await ts.server.shutdown();
    expect(ts.server.listening).toBe(false);
    expect(ts.server.connections.size).toBe(0);
    expect((await client.closed).code).toBe(1000);
  });
});

// ---- Events ------------------------------------------------------------------------------

/** The reference's parameters of every event, in camelCase. Type-checked against WSServerEvents. */
const EVENT_FIELDS: { [K in keyof WSServerEvents]: Array<keyof WSServerEvents[K]> } = {
  connected: ['connectionId'],
  connectionRequest: ['address', 'port', 'accept'],
  dataIn: ['connectionId', 'dataFormat', 'text', 'eom', 'eol'],
  disconnected: ['connectionId', 'statusCode', 'description'],
  error: ['connectionId', 'errorCode', 'description'],
  log: ['connectionId', 'logLevel', 'message', 'logType'],
  ping: ['connectionId', 'payload', 'response'],
  readyToSend: ['connectionId'],
  sslClientAuthentication: ['connectionId', 'certEncoded', 'certSubject', 'certIssuer', 'status', 'accept'],
  sslConnectionRequest: ['connectionId', 'supportedCipherSuites', 'supportedSignatureAlgs', 'certStoreType', 'certStore', 'certPassword', 'certSubject'],
  sslStatus: ['connectionId', 'message'],
  webSocketOpenRequest: ['connectionId', 'requestURI', 'hostHeader', 'originHeader', 'subProtocols', 'extensions', 'requestHeaders', 'statusCode', 'responseHeaders'],
};

describe('events', () => {
  it('every event of the reference is a typed event of WSServer', () => {
    expect(Object.keys(EVENT_FIELDS).sort()).toEqual(members.events.map(camel).sort());
  });

  it('every non-TLS event fires with exactly the reference parameters', async () => {
    const ts = await startServer({ config: { LogLevel: 3 } });
    try {
      const { client, conn, id } = await connectPeer(ts, '/events');
      client.ws.send('hello');
      client.ws.ping(Buffer.from('p'));
      await ts.waitFor('dataIn');
      await ts.waitFor('ping', (e) => !e.response);
      await ts.server.ping(id);
      await ts.waitFor('ping', (e) => e.response);
      // An upload stream that fails reports through the Error event (nobody awaits the field's send).
      conn.uploadStream = new Readable({
        read() {
          this.destroy(new Error('disk on fire'));
        },
      });
      await ts.waitFor('error', (e) => e.connectionId === id);
      await client.close();
      await ts.waitFor('disconnected');
      const fired = new Set(ts.events.map((e) => e.name));
      for (const name of Object.keys(EVENT_FIELDS) as Array<keyof WSServerEvents>) {
        if (name.startsWith('ssl')) continue; // TLS events fire from the TLS issue
        expect(fired.has(name), `event ${name} fired`).toBe(true);
        const sample = ts.events.find((e) => e.name === name)!.event as object;
        expect(Object.keys(sample).sort(), `fields of ${name}`).toEqual([...EVENT_FIELDS[name]].map(String).sort());
      }
    } finally {
      await ts.close();
    }
  });
});

// ---- Config settings ---------------------------------------------------------------------

/**
 * Per setting: the reference's default where it states one (else the table's), a valid
 * value to set, and values that must be refused with 10022. `free` names the reason a string
 * setting has no invalid value.
 */
interface ConfigCase {
  refDefault?: string;
  good?: string;
  bad?: string[];
  free?: string;
  readOnly?: boolean;
  perConnection?: boolean;
  connectionOnly?: boolean;
}

const NOT_BOOL = ['maybe', '2', ''];
const NOT_UINT = ['abc', '-1', '1.5', ''];

const CONFIG: Record<string, ConfigCase> = {
  BufferMessage: { refDefault: 'False', good: 'True', bad: NOT_BOOL },
  DisconnectStatusCode: { refDefault: '1000', good: '4000', bad: ['abc', '999', '1004', '1005', '1006', '1015', '2000', '5000'] },
  DisconnectStatusDescription: { refDefault: '', good: 'bye now', bad: ['x'.repeat(124), 'é'.repeat(62)] },
  EnablePermessageDeflate: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  MaxFrameSize: { refDefault: '131072', good: '1024', bad: [...NOT_UINT, '0'] },
  MaxLineLength: { good: '80', bad: [...NOT_UINT, '0'], perConnection: true },
  MessageLength: { good: '30', bad: NOT_UINT, perConnection: true },
  WaitForCloseResponse: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  AllowedClients: { refDefault: '*', good: '127.0.0.*, 10.*', bad: ['10.0.0.0/8', '127.0.0.1;10.0.0.1'] },
  BindExclusively: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  BlockedClients: { refDefault: '', good: '10.*', bad: ['10.0.0.0/8', 'host name'] },
  CloseStreamAfterTransfer: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  DefaultConnectionTimeout: { refDefault: '0', good: '30', bad: NOT_UINT },
  InBufferSize: { good: '131072', bad: [...NOT_UINT, '0'] },
  KeepAliveInterval: { good: '1000', bad: NOT_UINT },
  KeepAliveTime: { good: '60000', bad: NOT_UINT },
  MaxConnections: { refDefault: '1000', good: '2', bad: [...NOT_UINT, '0', '100001'] },
  OutBufferSize: { good: '65536', bad: [...NOT_UINT, '0'] },
  PreferredDHGroupBits: { refDefault: '2048', good: '4096', bad: [...NOT_UINT, '0'] },
  TcpNoDelay: { refDefault: 'False', good: 'True', bad: NOT_BOOL },
  UseIPv6: { refDefault: '0', good: '2', bad: ['3', '-1', 'x'] },
  LogSSLPackets: { refDefault: 'False', good: 'True', bad: NOT_BOOL },
  ReuseSSLSession: { good: 'True', bad: NOT_BOOL },
  SSLCACerts: { refDefault: '', good: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', free: 'PEM text, parsed when TLS loads it' },
  SSLCheckCRL: { refDefault: '0', good: '1', bad: ['3', '-1', 'x'] },
  SSLCheckOCSP: { refDefault: '0', good: '2', bad: ['3', '-1', 'x'] },
  SSLCipherStrength: { good: '128', bad: NOT_UINT },
  SSLContextProtocol: { good: 'TLSv1', free: 'Java-only (SSLContext.getInstance), accepted and ignored' },
  SSLEnabledCipherSuites: { refDefault: '*', good: 'TLS_AES_128_GCM_SHA256', free: 'a cipher list, checked by OpenSSL when TLS starts' },
  SSLEnabledProtocols: { refDefault: '4032', good: '12288', bad: NOT_UINT },
  SSLEnableRenegotiation: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  SSLIncludeCertChain: { refDefault: 'False', good: 'True', bad: NOT_BOOL },
  SSLKeyLogFile: { refDefault: '', good: '/tmp/keys.log', free: 'a file path' },
  SSLNegotiatedCipher: { refDefault: '', readOnly: true, connectionOnly: true },
  SSLNegotiatedCipherStrength: { refDefault: '0', readOnly: true, connectionOnly: true },
  SSLNegotiatedCipherSuite: { refDefault: '', readOnly: true, connectionOnly: true },
  SSLNegotiatedKeyExchange: { refDefault: '', readOnly: true, connectionOnly: true },
  SSLNegotiatedKeyExchangeStrength: { refDefault: '0', readOnly: true, connectionOnly: true },
  SSLNegotiatedVersion: { refDefault: '', readOnly: true, connectionOnly: true },
  SSLServerCACerts: { refDefault: '', good: '', free: 'PEM text, a client-side setting of the reference' },
  SSLTrustManagerFactoryAlgorithm: { good: 'SunX509', free: 'Java-only (TrustManagerFactory), accepted and ignored' },
  TLS12SignatureAlgorithms: {
    refDefault: 'sha512-ecdsa,sha512-rsa,sha512-dsa,sha384-ecdsa,sha384-rsa,sha384-dsa,sha256-ecdsa,sha256-rsa,sha256-dsa,sha224-ecdsa,sha224-rsa,sha224-dsa,sha1-ecdsa,sha1-rsa,sha1-dsa',
    good: 'sha256-rsa,sha256-dsa,sha1-rsa,sha1-dsa',
    bad: ['sha256-bogus', 'md5-rsa'],
  },
  TLS12SupportedGroups: { refDefault: 'ecdhe_secp256r1,ecdhe_secp384r1,ecdhe_secp521r1', good: 'ecdhe_secp384r1', bad: ['ecdhe_x25519x', 'secp256r1'] },
  TLS13KeyShareGroups: { refDefault: 'ecdhe_x25519,ecdhe_secp256r1,ecdhe_secp384r1,ffdhe_2048,ffdhe_3072', good: 'ecdhe_x448,ffdhe_8192', bad: ['ffdhe_1024'] },
  TLS13SignatureAlgorithms: {
    refDefault: 'rsa_pss_sha256,rsa_pss_sha384,rsa_pss_sha512,rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512,ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,ecdsa_secp521r1_sha512,ed25519,ed448',
    good: 'ed25519,rsa_pss_sha256',
    bad: ['rsa_md5'],
  },
  TLS13SupportedGroups: {
    refDefault: 'ecdhe_x25519,ecdhe_x448,ecdhe_secp256r1,ecdhe_secp384r1,ecdhe_secp521r1,ffdhe_2048,ffdhe_3072,ffdhe_4096,ffdhe_6144,ffdhe_8192',
    good: 'ecdhe_x25519',
    bad: ['ecdhe_bogus'],
  },
  BuildInfo: { readOnly: true },
  GUIAvailable: { good: 'True', bad: NOT_BOOL },
  LicenseInfo: { readOnly: true },
  MaskSensitive: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  UseDaemonThreads: { refDefault: 'True', good: 'False', bad: NOT_BOOL },
  UseInternalSecurityAPI: { refDefault: 'False', good: 'True', bad: NOT_BOOL },
};

const settingNames = members.configSettings.map((s) => s.replace('[ConnectionId]', ''));

describe('config settings', () => {
  let ts: TestServer;
  let peer: Peer;

  beforeAll(async () => {
    ts = await startServer();
    peer = await connectPeer(ts);
  });
  afterAll(async () => {
    await peer.client.close();
    await ts.close();
  });

  it('the test knows every setting of the member list, and only those', () => {
    expect(Object.keys(CONFIG).sort()).toEqual([...settingNames].sort());
  });

  it('per-connection settings are the ones the member list marks [ConnectionId]', () => {
    const marked = members.configSettings.filter((s) => s.endsWith('[ConnectionId]')).map((s) => s.replace('[ConnectionId]', ''));
    expect(Object.entries(CONFIG).filter(([, c]) => c.perConnection).map(([n]) => n).sort()).toEqual(marked.sort());
  });

  it.each(settingNames)('%s reads back its default', (name) => {
    const c = CONFIG[name]!;
    const spec = SETTINGS.find((s) => s.name === name);
    expect(spec, `${name} is in the settings table`).toBeDefined();
    if (c.connectionOnly) {
      expect(ts.server.config(`${name}[${peer.id}]`)).toBe(c.refDefault);
      expect(syncCodeOf(() => ts.server.config(name))).toBe(10022);
      return;
    }
    const value = ts.server.config(name);
    if (name === 'BuildInfo') expect(value).toMatch(/wsworks \d+\.\d+\.\d+/);
    else if (name === 'LicenseInfo') expect(value).toMatch(/MIT/);
    else if (c.refDefault !== undefined) expect(value).toBe(c.refDefault);
    else expect(value).toBe(String(typeof spec!.default === 'boolean' ? (spec!.default ? 'True' : 'False') : spec!.default));
    if (c.perConnection) expect(ts.server.config(`${name}[${peer.id}]`)).toBe(value);
  });

  it.each(settingNames.filter((n) => !CONFIG[n]!.readOnly))('%s can be set and read back', (name) => {
    const server = new WSServer();
    const c = CONFIG[name]!;
    expect(server.config(`${name}=${c.good}`)).toBe('');
    expect(server.config(name)).toBe(c.good);
    if (c.refDefault !== undefined && c.good !== c.refDefault) expect(new WSServer().config(name)).toBe(c.refDefault);
  });

  it.each(settingNames.filter((n) => CONFIG[n]!.readOnly))('%s is read-only: setting it is refused with 10022', (name) => {
    const target = CONFIG[name]!.connectionOnly ? `${name}[${peer.id}]` : name;
    const before = ts.server.config(target);
    expect(syncCodeOf(() => ts.server.config(`${target}=x`))).toBe(10022);
    expect(ts.server.config(target)).toBe(before);
  });

  it.each(settingNames.filter((n) => CONFIG[n]!.bad))('%s refuses bad values with 10022 and keeps its value', (name) => {
    const server = new WSServer();
    const before = server.config(name);
    for (const bad of CONFIG[name]!.bad!) {
      const err = (() => {
        try {
          server.config(`${name}=${bad}`);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, `${name}=${JSON.stringify(bad)} is refused`).toBeInstanceOf(WSServerError);
      expect((err as WSServerError).code).toBe(10022);
      expect(server.config(name)).toBe(before);
    }
  });

  it('string settings without a bad value are exactly the free-form ones, and take any text', () => {
    const free = settingNames.filter((n) => CONFIG[n]!.free);
    expect(free.sort()).toEqual(['SSLCACerts', 'SSLContextProtocol', 'SSLEnabledCipherSuites', 'SSLKeyLogFile', 'SSLServerCACerts', 'SSLTrustManagerFactoryAlgorithm']);
    const server = new WSServer();
    for (const name of free) {
      server.config(`${name}=anything at all = really`);
      expect(server.config(name)).toBe('anything at all = really');
    }
  });

  it('booleans accept True/False/1/0/Yes/No in any case', () => {
    const server = new WSServer();
    for (const [raw, shown] of [['yes', 'True'], ['NO', 'False'], ['1', 'True'], ['0', 'False'], ['tRuE', 'True'], ['false', 'False']]) {
      server.config(`BufferMessage=${raw}`);
      expect(server.config('BufferMessage')).toBe(shown);
    }
  });

  it('an unknown setting is refused with 10022, read or written', () => {
    expect(syncCodeOf(() => ts.server.config('NoSuchSetting'))).toBe(10022);
    expect(syncCodeOf(() => ts.server.config('NoSuchSetting=1'))).toBe(10022);
    expect(syncCodeOf(() => ts.server.config('BufferMessage[1]'))).toBe(10022); // no per-connection form
    expect(syncCodeOf(() => ts.server.config('=1'))).toBe(10022);
  });

  it.each(['MaxLineLength', 'MessageLength'])('%s[connId] is set and read per connection', async (name) => {
    const other = await connectPeer(ts);
    try {
      const serverWide = ts.server.config(name);
      ts.server.config(`${name}[${peer.id}]=${CONFIG[name]!.good}`);
      expect(ts.server.config(`${name}[${peer.id}]`)).toBe(CONFIG[name]!.good);
      expect(ts.server.config(`${name}[${other.id}]`)).toBe(serverWide); // other connections keep theirs
      expect(ts.server.config(name)).toBe(serverWide); // and so does the server-wide default
      for (const bad of CONFIG[name]!.bad!) expect(syncCodeOf(() => ts.server.config(`${name}[${peer.id}]=${bad}`))).toBe(10022);
      expect(syncCodeOf(() => ts.server.config(`${name}[nope]`))).toBe(126);
      expect(syncCodeOf(() => ts.server.config(`${name}[nope]=5`))).toBe(126);
      ts.server.config(`${name}[${peer.id}]=${serverWide}`);
    } finally {
      await other.client.close();
    }
  });

  it('MaxLineLength (server-wide) is the value new connections start with', async () => {
    ts.server.config('MaxLineLength=77');
    const other = await connectPeer(ts);
    try {
      expect(ts.server.config(`MaxLineLength[${other.id}]`)).toBe('77');
      expect(other.conn.maxLineLength).toBe(77);
    } finally {
      await other.client.close();
      ts.server.config(`MaxLineLength=${SETTINGS.find((s) => s.name === 'MaxLineLength')!.default}`);
    }
  });

  it('settings passed to the constructor are applied', () => {
    const server = new WSServer({ config: { BufferMessage: true, MaxFrameSize: 4096, AllowedClients: '127.*' } });
    expect(server.config('BufferMessage')).toBe('True');
    expect(server.config('MaxFrameSize')).toBe('4096');
    expect(server.config('AllowedClients')).toBe('127.*');
    expect(() => new WSServer({ config: { NoSuchSetting: 1 } })).toThrow(WSServerError);
  });
});

// ---- WSConnection fields -----------------------------------------------------------------

describe('WSConnection fields', () => {
  const WRITE_ONLY = new Set(['DataToSend', 'DataToSendB', 'UploadStream']);
  const READ_ONLY = new Set(['BytesSent', 'ConnectionId', 'Host', 'LineMode', 'LocalAddress', 'Origin', 'ReadyToSend', 'RemoteHost', 'RemotePort', 'RequestHeaders', 'RequestURI', 'SubProtocols']);
  let ts: TestServer;
  let peer: Peer;

  beforeAll(async () => {
    ts = await startServer();
    peer = await connectPeer(ts, '/fields?q=1', undefined, { origin: 'http://example.test', headers: { 'X-Probe': 'yes' } });
  });
  afterAll(async () => {
    await peer.client.close();
    await ts.close();
  });

  it.each(members.connectionFields)('%s is a field of WSConnection', (name) => {
    const key = camel(name);
    if (WRITE_ONLY.has(name)) {
      const d = Object.getOwnPropertyDescriptor(WSConnection.prototype, key);
      expect(d?.set, `${key} setter`).toBeTypeOf('function');
      return;
    }
    expect(key in peer.conn, `${key} on a connection`).toBe(true);
    // Read-only fields that are accessors refuse assignment at run time too.
    const d = Object.getOwnPropertyDescriptor(WSConnection.prototype, key);
    if (READ_ONLY.has(name) && d?.get) {
      const before = (peer.conn as unknown as Record<string, unknown>)[key];
      expect(d.set, `${key} has no setter`).toBeUndefined();
      expect(() => {
        (peer.conn as unknown as Record<string, unknown>)[key] = 'changed';
      }, `${key} is read-only`).toThrow(TypeError);
      expect((peer.conn as unknown as Record<string, unknown>)[key]).toBe(before);
    }
  });

  it('read-only fields are readonly for TypeScript (checked by npm run typecheck)', () => {
    const c = peer.conn;
    if (c.connectionId === '') {
      // Never runs: each line must fail to type-check, or tsc reports an unused @ts-expect-error.
      // @ts-expect-error read-only
      c.bytesSent = 1;
      // @ts-expect-error read-only
      c.connectionId = 'x';
      // @ts-expect-error read-only
      c.host = 'x';
      // @ts-expect-error read-only
      c.lineMode = true;
      // @ts-expect-error read-only
      c.localAddress = 'x';
      // @ts-expect-error read-only
      c.origin = 'x';
      // @ts-expect-error read-only
      c.readyToSend = true;
      // @ts-expect-error read-only
      c.remoteHost = 'x';
      // @ts-expect-error read-only
      c.remotePort = 1;
      // @ts-expect-error read-only
      c.requestHeaders = 'x';
      // @ts-expect-error read-only
      c.requestURI = 'x';
      // @ts-expect-error read-only
      c.subProtocols = 'x';
    }
    expect(c.connectionId).toBe(peer.id);
  });

  it('hold what the handshake and the socket say', () => {
    const c = peer.conn;
    expect(c.acceptData).toBe(true);
    expect(c.bytesSent).toBe(0);
    expect(c.connected).toBe(true);
    expect(c.connectionId).toBe(peer.id);
    expect(ts.server.connections.get(peer.id)).toBe(c);
    expect(c.dataFormat).toBe(0);
    expect(c.host).toBe(`127.0.0.1:${ts.port}`);
    expect(c.lineMode).toBe(false);
    expect(c.localAddress).toBe('127.0.0.1');
    expect(c.origin).toBe('http://example.test');
    expect(c.readyToSend).toBe(true);
    expect(c.remoteHost).toBe('127.0.0.1');
    expect(c.remotePort).toBe(peer.client.localPort);
    expect(c.requestHeaders).toMatch(/^X-Probe: yes$/im);
    expect(c.requestHeaders).toMatch(/^Sec-WebSocket-Key: /im);
    expect(c.requestURI).toBe('/fields?q=1');
    expect(c.subProtocols).toBe('');
    expect(c.timeout).toBe(0);
  });

  it('the write-only fields send', async () => {
    const start = peer.client.messages.length;
    peer.conn.dataToSend = 'via DataToSend';
    peer.conn.dataToSendB = Buffer.from([9, 8, 7]);
    peer.conn.uploadStream = Readable.from([Buffer.from('via '), Buffer.from('UploadStream')]);
    const got = (await peer.client.waitForMessages(start + 3)).slice(start);
    expect(got.map((m) => [m.data.toString('latin1'), m.isBinary])).toEqual([
      ['via DataToSend', false],
      ['\x09\x08\x07', true],
      ['via UploadStream', true],
    ]);
    expect(peer.conn.bytesSent).toBe(3);
  });
});

// ---- Certificate ---------------------------------------------------------------------------

describe('Certificate', () => {
  const BYTES = new Set(['EncodedB', 'StoreB']);
  const NUMBERS: Record<string, number> = { PublicKeyLength: 0, StoreType: 0, UsageFlags: 0 };

  it.each(members.certificateFields)('%s is a field of Certificate with the reference default', (name) => {
    const cert = new Certificate() as unknown as Record<string, unknown>;
    const key = camel(name);
    expect(key in cert, key).toBe(true);
    const value = cert[key];
    if (BYTES.has(name)) expect(Buffer.isBuffer(value)).toBe(true);
    else if (name === 'PrivateKeyAvailable') expect(value).toBe(false);
    else if (name in NUMBERS) expect(value).toBe(NUMBERS[name]);
    else if (name === 'Store') expect(value).toBe('MY');
    else expect(value).toBe('');
  });

  it('the store constructor opens the store at once: one that cannot be opened is 271 (test/tls-certificate.test.ts loads real ones)', () => {
    expect(syncCodeOf(() => new Certificate(2, '/path/cert.pfx', 'secret', 'CN=test'))).toBe(271);
    expect(syncCodeOf(() => new Certificate(3, Buffer.from([1, 2]), '', '*'))).toBe(271);
  });
});

// ---- Error codes ---------------------------------------------------------------------------

describe('error codes', () => {
  it.each(Object.entries(members.errors))('%s has the reference text', (code, text) => {
    expect(ERROR_MESSAGES[Number(code)]).toBe(text);
    const err = new WSServerError(Number(code));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(Number(code));
    expect(err.message).toBe(text);
    expect(err.name).toBe('WSServerError');
  });

  it('a detail is appended to the reference text', () => {
    const err = new WSServerError(10035, 'Wait for readyToSend.');
    expect(err.message).toBe('[10035] Operation would block. Wait for readyToSend.');
  });
});
