/**
 * A client that stops reading, lets the echo back up, then half-closes TCP without a close
 * frame (what a load generator does at teardown): the server must finish quietly — no error
 * about writing after end, no crash, and `disconnected` with 1006.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { attachEcho } from '../src/index.js';
import { RawClient, buildFrame } from './helpers/raw-client.js';
import { ENGINES, startServer, type TestServer } from './helpers/server.js';

describe.each(ENGINES)('half-close without a close frame (%s)', (engine) => {
  let ts: TestServer;
  afterEach(async () => ts?.close());

  it('drops what cannot be delivered, reports no send error, and reports 1006', async () => {
    ts = await startServer({
      engine,
      setup: (s) => {
        s.config('BufferMessage=True');
        s.config('OutBufferSize=4096');
        attachEcho(s);
      },
    });
    const client = await RawClient.open(ts.port);
    client.socket.pause(); // stop reading: the echo backs up until 10035, then the input pauses
    const frame = buildFrame(0x2, Buffer.alloc(8192, 7));
    for (let i = 0; i < 200; i++) client.write(frame);
    await ts.waitFor('readyToSend'); // the connection opened (first readyToSend)
    await new Promise((r) => setTimeout(r, 200));
    client.socket.end(); // FIN, no close frame
    client.socket.resume();
    const gone = await ts.waitFor('disconnected', undefined, 10_000);
    expect(gone.statusCode).toBe(1006);
    await new Promise((r) => setTimeout(r, 100));
    const errors = ts.events.filter((e) => e.name === 'error');
    expect(errors.map((e) => (e.event as { description: string }).description)).toEqual([]);
  });
});
