/**
 * Autobahn|Testsuite section 5 against the echo server: fragmentation. Fragmented control
 * frames, continuations without a message, a new message inside an open one: 1002 and the
 * TCP connection dropped by the server. Control frames between fragments are answered at once,
 * and the message is echoed whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { buildFrame, type RawClient } from './helpers/raw-client.js';
import { Op, closeNormally, expectEcho, expectFailure, expectPong, openRaw, sendFrames, startEchoServer } from './helpers/conformance.js';


const frag = (opcode: number, payload: string, fin: boolean): Buffer => buildFrame(opcode, payload, { fin });

describe.each(ENGINES)('Autobahn 5: fragmentation (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  it('5.1 fragmented ping fails with 1002', async () => {
    const client = await openRaw(ts);
    await sendFrames(client, [frag(Op.Ping, 'fragment1', false), frag(Op.Continuation, 'fragment2', true)], 'together');
    expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
  });

  it('5.2 fragmented pong fails with 1002', async () => {
    const client = await openRaw(ts);
    await sendFrames(client, [frag(Op.Pong, 'fragment1', false), frag(Op.Continuation, 'fragment2', true)], 'together');
    expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
  });

  for (const [id, how] of [
    ['5.3', 'together'],
    ['5.4', 'sync'],
    ['5.5', 'octets'],
  ] as const) {
    it(`${id} text message in 2 fragments (${how}) is echoed whole`, async () => {
      const client = await openRaw(ts);
      await sendFrames(client, [frag(Op.Text, 'fragment1', false), frag(Op.Continuation, 'fragment2', true)], how);
      await expectEcho(client, Op.Text, 'fragment1fragment2');
      await closeNormally(ts, client);
    });
  }

  for (const [id, how] of [
    ['5.6', 'together'],
    ['5.7', 'sync'],
    ['5.8', 'octets'],
  ] as const) {
    it(`${id} text message in 2 fragments with a ping between them (${how}): pong, then the message`, async () => {
      const client = await openRaw(ts);
      await sendFrames(
        client,
        [frag(Op.Text, 'fragment1', false), buildFrame(Op.Ping, 'ping payload'), frag(Op.Continuation, 'fragment2', true)],
        how,
      );
      await expectPong(client, 'ping payload');
      await expectEcho(client, Op.Text, 'fragment1fragment2');
      await closeNormally(ts, client);
    });
  }

  for (const [id, fin, how] of [
    ['5.9', true, 'together'],
    ['5.10', true, 'sync'],
    ['5.11', true, 'octets'],
    ['5.12', false, 'together'],
    ['5.13', false, 'sync'],
    ['5.14', false, 'octets'],
  ] as const) {
    it(`${id} continuation (FIN=${fin}) with no message to continue, then a text message (${how}): 1002`, async () => {
      const client = await openRaw(ts);
      await sendFrames(client, [frag(Op.Continuation, 'non-continuation payload', fin), frag(Op.Text, 'Hello, world!', true)], how);
      expect((await expectFailure(ts, client, 1002)).before, 'the text message after the violation is not echoed').toEqual([]);
    });
  }

  it('5.15 a whole fragmented message, then a continuation and a text frame of a new one: echo, then 1002', async () => {
    const client = await openRaw(ts);
    await sendFrames(
      client,
      [
        frag(Op.Text, 'fragment1', false),
        frag(Op.Continuation, 'fragment2', true),
        frag(Op.Continuation, 'fragment3', false),
        frag(Op.Text, 'fragment4', true),
      ],
      'together',
    );
    await expectEcho(client, Op.Text, 'fragment1fragment2');
    expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
  });

  for (const [id, firstFin] of [
    ['5.16', false],
    ['5.17', true],
  ] as const) {
    it(`${id} a message starting with a continuation (FIN=${firstFin}), twice: 1002 at once`, async () => {
      const client = await openRaw(ts);
      const round = [frag(Op.Continuation, 'fragment1', firstFin), frag(Op.Text, 'fragment2', false), frag(Op.Continuation, 'fragment3', true)];
      await sendFrames(client, [...round, ...round], 'together');
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });
  }

  it('5.18 text message whose second fragment is a text frame instead of a continuation: 1002', async () => {
    const client = await openRaw(ts);
    await sendFrames(client, [frag(Op.Text, 'fragment1', false), frag(Op.Text, 'fragment2', true)], 'together');
    expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
  });

  for (const [id, how] of [
    ['5.19', 'together'],
    ['5.20', 'sync'],
  ] as const) {
    it(`${id} 5 fragments with pings between, sent in two parts (${how}): the first pong comes before the rest is sent`, async () => {
      const client = await openRaw(ts);
      await sendFrames(
        client,
        [frag(Op.Text, 'fragment1', false), frag(Op.Continuation, 'fragment2', false), buildFrame(Op.Ping, 'pongme 1!')],
        how,
      );
      // Autobahn waits 1 s here and expects the pong meanwhile: the server must not hold control
      // frames back until the message ends.
      await expectPong(client, 'pongme 1!', 1000);
      await sendFrames(
        client,
        [
          frag(Op.Continuation, 'fragment3', false),
          frag(Op.Continuation, 'fragment4', false),
          buildFrame(Op.Ping, 'pongme 2!'),
          frag(Op.Continuation, 'fragment5', true),
        ],
        how,
      );
      await expectPong(client, 'pongme 2!');
      await expectEcho(client, Op.Text, 'fragment1fragment2fragment3fragment4fragment5');
      await closeNormally(ts, client);
    });
  }

  it('a binary message in many fragments with pings between them keeps its order and type', async () => {
    const client = await openRaw(ts);
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(100 + i, i));
    const frames: Buffer[] = [];
    parts.forEach((p, i) => {
      frames.push(buildFrame(i === 0 ? Op.Binary : Op.Continuation, p, { fin: i === parts.length - 1 }));
      if (i % 5 === 2) frames.push(buildFrame(Op.Ping, `p${i}`));
    });
    client.write(Buffer.concat(frames));
    for (const i of [2, 7, 12, 17]) await expectPong(client, `p${i}`);
    await expectEcho(client, Op.Binary, Buffer.concat(parts));
    await closeNormally(ts, client);
  });
});
