/**
 * End to end in a real browser: the demo (examples/demo) served on loopback, Debian's Chromium
 * driven by playwright-core, and the browser's own WebSocket talking to wsworks.
 *
 * This test needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH). It fails, never skips,
 * when Chromium is missing: `.ci/run` installs it (`apt-get install chromium`).
 * The demo imports 'wsworks', i.e. the built dist/: run `npm run build` after changing src/.
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../examples/demo/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As root on a machine with a closed network: no sandbox, no GPU, no background traffic.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What an in-page close event carried. */
interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** State the tests keep inside the page between evaluate calls (names no Window property has). */
interface PageGlobals {
  testSocket: WebSocket;
  testSocketClosed: Promise<Closed>;
}

let demo: Demo;
let browser: Browser;
let baseUrl: string;
const contexts: BrowserContext[] = [];
/** Every TCP connection the demo accepted, to count the bytes that crossed the wire. */
const serverSockets: Socket[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install Debian's chromium ` +
        '(apt-get install -y --no-install-recommends chromium) or set CHROMIUM_PATH; .ci/run does this.',
    );
  }
  demo = await startDemo({ port: 0, host: '127.0.0.1' });
  demo.httpServer.on('connection', (socket: Socket) => serverSockets.push(socket));
  baseUrl = `http://127.0.0.1:${demo.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

/** A new page (own browser context) showing the demo. */
async function openDemoPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const response = await page.goto(`${baseUrl}/`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-type']).toMatch(/^text\/html/);
  return page;
}

/** Connects the page's UI to an endpoint and waits until the socket is open. */
async function connectUi(page: Page, endpoint: '/echo' | '/chat', nick = ''): Promise<void> {
  await page.selectOption('#endpoint', endpoint);
  await page.fill('#nick', nick);
  await page.click('#connect');
  await page.waitForSelector('#status[data-state="open"]');
}

/** The text of the page's log lines of one kind ('in', 'out' or 'info'). */
async function logLines(page: Page, kind: 'in' | 'out' | 'info'): Promise<string[]> {
  return page.locator(`#log li.${kind}`).allTextContents();
}

/** Waits for a log line of that kind with exactly this text. */
async function waitForLogLine(page: Page, kind: 'in' | 'out' | 'info', text: string): Promise<void> {
  const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator(`#log li.${kind}`, { hasText: exactly }).first().waitFor();
}

/** The next connection the server accepts (its connectionId). */
function nextConnectionId(): Promise<string> {
  return new Promise((resolve) => demo.wsServer.once('connected', (e: { connectionId: string }) => resolve(e.connectionId)));
}

/** Opens `testSocket` in the page on `url`; `testSocketClosed` settles with its close event. */
async function openPageSocket(page: Page, url: string): Promise<void> {
  await page.evaluate(async (wsUrl) => {
    const g = globalThis as unknown as PageGlobals;
    const socket = new WebSocket(wsUrl);
    socket.binaryType = 'arraybuffer';
    g.testSocket = socket;
    g.testSocketClosed = new Promise<Closed>((resolve) => {
      socket.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }));
    });
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', () => reject(new Error(`could not open ${wsUrl}`)));
    });
  }, url);
}

/** Bytes the demo's sockets have read and written so far, over every connection. */
function wireBytes(): { read: number; written: number } {
  let read = 0;
  let written = 0;
  for (const socket of serverSockets) {
    read += socket.bytesRead;
    written += socket.bytesWritten;
  }
  return { read, written };
}

describe('the demo in Chromium', () => {
  it('echoes a text message typed into the page', async () => {
    const page = await openDemoPage();
    await connectUi(page, '/echo');
    const text = 'hello wsworks: ✓ ünïcödé 🚀';
    await page.fill('#message', text);
    await page.click('#send');
    await waitForLogLine(page, 'in', `← text: ${text}`);
    expect(await logLines(page, 'in')).toEqual([`← text: ${text}`]);
    expect(await page.textContent('#extensions')).toContain('permessage-deflate');
  });

  it('echoes the page\'s binary message byte for byte', async () => {
    const page = await openDemoPage();
    await connectUi(page, '/echo');
    await page.click('#send-binary');
    const sent = '→ binary (8 bytes): 00 01 7f 80 c3 28 fe ff';
    await waitForLogLine(page, 'in', sent.replace('→', '←'));
    expect(await logLines(page, 'out')).toEqual([sent]);
  });

  it('round-trips every byte value as an ArrayBuffer', async () => {
    const page = await openDemoPage();
    await openPageSocket(page, `ws://127.0.0.1:${demo.port}/echo`);
    const bytes = Array.from({ length: 4096 + 3 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
    const echoed = await page.evaluate(async (values) => {
      const socket = (globalThis as unknown as PageGlobals).testSocket;
      const reply = new Promise<unknown>((resolve) => socket.addEventListener('message', (e) => resolve(e.data), { once: true }));
      socket.send(new Uint8Array(values));
      const data = await reply;
      return { isArrayBuffer: data instanceof ArrayBuffer, bytes: data instanceof ArrayBuffer ? Array.from(new Uint8Array(data)) : null };
    }, bytes);
    expect(echoed.isArrayBuffer).toBe(true);
    expect(echoed.bytes).toEqual(bytes);
  });

  it('negotiates permessage-deflate and compresses a large message both ways', async () => {
    const page = await openDemoPage();
    const before = wireBytes();
    const result = await page.evaluate(async (wsUrl) => {
      const rows = Array.from({ length: 3500 }, (_, i) => ({ id: i % 16, name: 'wsworks', tags: ['ws', 'deflate'], ok: true }));
      const text = JSON.stringify({ rows }); // ~200 KB, very repetitive
      const socket = new WebSocket(wsUrl);
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener('open', () => resolve());
        socket.addEventListener('error', () => reject(new Error('could not open')));
      });
      const reply = new Promise<unknown>((resolve) => socket.addEventListener('message', (e) => resolve(e.data), { once: true }));
      socket.send(text);
      const echoed = await reply;
      socket.close();
      return { extensions: socket.extensions, length: text.length, same: echoed === text };
    }, `ws://127.0.0.1:${demo.port}/echo`);
    const after = wireBytes();

    expect(result.extensions).toContain('permessage-deflate');
    expect(result.length).toBeGreaterThan(200_000);
    expect(result.same).toBe(true);
    // Uncompressed, each direction would carry more than 200 KB; deflated it is a few KB.
    expect(after.read - before.read).toBeLessThan(result.length / 10);
    expect(after.written - before.written).toBeLessThan(result.length / 10);
  });

  it('broadcasts a chat message to the other page', async () => {
    const alice = await openDemoPage();
    const bob = await openDemoPage();
    await connectUi(alice, '/chat', 'alice');
    await connectUi(bob, '/chat', 'bob');
    await waitForLogLine(alice, 'in', '← text: * bob joined');

    await alice.fill('#message', 'hi bob');
    await alice.click('#send');
    await waitForLogLine(bob, 'in', '← text: alice: hi bob');
    await waitForLogLine(alice, 'in', '← text: alice: hi bob'); // the sender sees its own line too

    await bob.click('#close');
    await bob.waitForSelector('#status[data-state="closed"]');
    await waitForLogLine(alice, 'in', '← text: * bob left');
  });

  it('reports the close code a browser sends in the server\'s disconnected event', async () => {
    const page = await openDemoPage();
    const connected = nextConnectionId();
    await openPageSocket(page, `ws://127.0.0.1:${demo.port}/echo`);
    const id = await connected;
    const disconnected = new Promise<{ statusCode: number; description: string }>((resolve) => {
      const listener = (e: { connectionId: string; statusCode: number; description: string }) => {
        if (e.connectionId !== id) return;
        demo.wsServer.off('disconnected', listener);
        resolve(e);
      };
      demo.wsServer.on('disconnected', listener);
    });

    const closed = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      g.testSocket.close(4000, 'bye');
      return g.testSocketClosed;
    });
    const event = await disconnected;
    expect(event.statusCode).toBe(4000);
    expect(closed).toMatchObject({ code: 4000, wasClean: true }); // the server answered with a close frame
    expect(demo.wsServer.connections.has(id)).toBe(false);
  });

  it('shows a close from the server as code 1000 in the page', async () => {
    const page = await openDemoPage();
    const connected = nextConnectionId();
    await connectUi(page, '/echo');
    const id = await connected;

    demo.wsServer.disconnect(id);
    await page.waitForSelector('#status[data-state="closed"]');
    expect(await page.textContent('#status')).toMatch(/^closed: code 1000\b/);
    const lastInfo = (await logLines(page, 'info')).at(-1);
    expect(lastInfo).toMatch(/^closed: code 1000\b/);
    expect(lastInfo).not.toContain('not clean');
  });

  it('refuses a WebSocket upgrade on an unknown path', async () => {
    const page = await openDemoPage();
    const outcome = await page.evaluate(async (wsUrl) => {
      const socket = new WebSocket(wsUrl);
      return new Promise<string>((resolve) => {
        socket.addEventListener('open', () => resolve('open'));
        socket.addEventListener('close', (e) => resolve(`closed ${e.code}`));
      });
    }, `ws://127.0.0.1:${demo.port}/nowhere`);
    expect(outcome).toBe('closed 1006');
  });
});
