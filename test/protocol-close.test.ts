/**
 * Autobahn|Testsuite section 7 against the echo server: the closing handshake.
 *
 * When the client closes, the server answers with a close frame (the client's code, or none when
 * the client sent none), processes nothing the client sends after its close, and drops TCP. An
 * invalid close frame (1-byte payload, a code that may not be sent, a reason over 123 bytes)
 * is answered with 1002; a reason that is not UTF-8 with 1007. `disconnected` reports the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { buildFrame, closePayload } from './helpers/raw-client.js';
import {
  Op,
  closeNormally,
  expectCloseHandshake,
  expectEcho,
  expectServerFrame,
  expectSameBytes,
  openRaw,
  repeatTo,
  startEchoServer,
} from './helpers/conformance.js';

/** 7.7.x: codes a client may send; the server echoes them. */
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
/** 7.9.x: codes that must not appear in a close frame; answered with 1002. */
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

describe.each(ENGINES)('Autobahn 7: closing handshake (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  describe('7.1 basic close behaviour', () => {
    it('7.1.1 a message, then the close: echo, then a clean close with 1000', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, 'Hello World!');
      await expectEcho(client, Op.Text, 'Hello World!');
      await closeNormally(ts, client);
    });

    it('7.1.2 two close frames: one answer, the second close is ignored', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([buildFrame(Op.Close, closePayload(1000)), buildFrame(Op.Close)]));
      const { code, before, disconnected } = await expectCloseHandshake(ts, client, null, 1000);
      expect(code).toBe(1000);
      expect(before).toEqual([]);
      expect(disconnected.statusCode).toBe(1000);
    });

    it('7.1.3 a ping after the close is not answered', async () => {
      const client = await openRaw(ts);
      client.write(buildFrame(Op.Close, closePayload(1000)));
      client.write(buildFrame(Op.Ping, 'after close'));
      const { before, disconnected } = await expectCloseHandshake(ts, client, null, 1000);
      expect(before, 'no pong').toEqual([]);
      expect(disconnected.statusCode).toBe(1000);
    });

    it('7.1.4 a text message after the close is not echoed', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([buildFrame(Op.Close, closePayload(1000)), buildFrame(Op.Text, 'Hello World!')]));
      const { before } = await expectCloseHandshake(ts, client, null, 1000);
      expect(before, 'no echo').toEqual([]);
    });

    it('7.1.5 first fragment, close, last fragment: clean close, the message is never delivered', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([
        buildFrame(Op.Text, 'fragment1', { fin: false }),
        buildFrame(Op.Close, closePayload(1000)),
        buildFrame(Op.Continuation, 'fragment2'),
      ]));
      const { before } = await expectCloseHandshake(ts, client, null, 1000);
      expect(before).toEqual([]);
    });

    it('7.1.6 256 KiB message, small message, close, ping back to back (informational): whatever is echoed is whole and in order, no pong', async () => {
      const client = await openRaw(ts);
      const big = repeatTo('BAsd7&jh23', 256 * 1024);
      const small = Buffer.from('Hello World!');
      client.write(Buffer.concat([buildFrame(Op.Text, big), buildFrame(Op.Text, small), buildFrame(Op.Close, closePayload(1000)), buildFrame(Op.Ping)]));
      const { before } = await expectCloseHandshake(ts, client, null, 1000);
      expect(before.some((f) => f.opcode === Op.Pong), 'no pong after the close').toBe(false);
      // Reassemble what came before the close: a prefix of [big, small].
      const messages: Buffer[] = [];
      let parts: Buffer[] = [];
      for (const f of before) {
        expectServerFrame(f);
        parts.push(f.payload);
        if (f.fin) {
          messages.push(Buffer.concat(parts));
          parts = [];
        }
      }
      expect(parts, 'no message cut off before the close frame').toEqual([]);
      const sent = [big, small];
      expect(messages.length).toBeLessThanOrEqual(2);
      messages.forEach((m, i) => expectSameBytes(m, sent[i]!, `message ${i + 1}`));
    });
  });

  describe('7.3 close frame structure', () => {
    it('7.3.1 empty close frame: answered with an empty close (or 1000), disconnected reports 1005', async () => {
      const client = await openRaw(ts);
      const { code, disconnected } = await expectCloseHandshake(ts, client, undefined, [1000, 1005]);
      expect(code).toBe(1005); // the server echoes "no code"
      expect(disconnected.statusCode).toBe(1005);
    });

    it('7.3.2 close frame with a 1-byte payload: 1002', async () => {
      const client = await openRaw(ts);
      const { disconnected } = await expectCloseHandshake(ts, client, Buffer.from('a'), 1002);
      expect(disconnected.statusCode).toBe(1002);
    });

    it('7.3.3 close frame with a code only: 1000 echoed', async () => {
      const client = await openRaw(ts);
      const { disconnected } = await expectCloseHandshake(ts, client, closePayload(1000), 1000);
      expect(disconnected.statusCode).toBe(1000);
    });

    it('7.3.4 close frame with a code and a reason: 1000 echoed', async () => {
      const client = await openRaw(ts);
      const { disconnected } = await expectCloseHandshake(ts, client, closePayload(1000, 'Hello World!'), 1000);
      expect(disconnected.statusCode).toBe(1000);
      expect(disconnected.description).toBe('Hello World!');
    });

    it('7.3.5 close frame with a reason of the maximum 123 bytes: 1000 echoed', async () => {
      const client = await openRaw(ts);
      const { disconnected } = await expectCloseHandshake(ts, client, closePayload(1000, '*'.repeat(123)), 1000);
      expect(disconnected.statusCode).toBe(1000);
    });

    it('7.3.6 close frame with a 124-byte reason (126-byte payload): 1002', async () => {
      const client = await openRaw(ts);
      const { disconnected } = await expectCloseHandshake(ts, client, closePayload(1000, '*'.repeat(124)), 1002);
      expect(disconnected.statusCode).toBe(1002);
    });
  });

  it('7.5.1 close reason that is not UTF-8: 1007', async () => {
    const client = await openRaw(ts);
    const reason = Buffer.from('ceba e1bdb9 cf83 cebc ceb5 eda080 656469746564'.replace(/ /g, ''), 'hex');
    const payload = Buffer.concat([closePayload(1000), reason]);
    const { disconnected } = await expectCloseHandshake(ts, client, payload, 1007);
    expect(disconnected.statusCode).toBe(1007);
  });

  describe('7.7 valid close codes are echoed', () => {
    VALID_CODES.forEach((code, i) => {
      it(`7.7.${i + 1} close code ${code}`, async () => {
        const client = await openRaw(ts);
        const { code: answered, before, disconnected } = await expectCloseHandshake(ts, client, closePayload(code), [code, 1000]);
        expect(answered, 'the server echoes the code').toBe(code);
        expect(before).toEqual([]);
        expect(disconnected.statusCode).toBe(code);
      });
    });
  });

  describe('7.9 invalid close codes get 1002', () => {
    INVALID_CODES.forEach((code, i) => {
      it(`7.9.${i + 1} close code ${code}`, async () => {
        const client = await openRaw(ts);
        const { before, disconnected } = await expectCloseHandshake(ts, client, closePayload(code), 1002);
        expect(before).toEqual([]);
        expect(disconnected.statusCode).toBe(1002);
      });
    });

    it('close code 1015 (TLS handshake failure, never sent on the wire): 1002', async () => {
      const client = await openRaw(ts);
      await expectCloseHandshake(ts, client, closePayload(1015), 1002);
    });
  });

  describe('7.13 codes outside the defined ranges (informational)', () => {
    for (const [id, code] of [
      ['7.13.1', 5000],
      ['7.13.2', 65535],
    ] as const) {
      it(`${id} close code ${code}: answered with 1000, the code, or 1002 — we send 1002`, async () => {
        const client = await openRaw(ts);
        const { code: answered } = await expectCloseHandshake(ts, client, closePayload(code), [1000, code, 1002]);
        expect(answered).toBe(1002);
      });
    }
  });

  describe('registered codes Autobahn does not test', () => {
    // 1012 (service restart), 1013 (try again later), 1014 (bad gateway) are IANA-registered
    // but not in RFC 6455; Autobahn has no case for them. Whatever the server answers (the code,
    // or 1002), the handshake must complete cleanly.
    for (const code of [1012, 1013, 1014]) {
      it(`close code ${code}: a clean closing handshake`, async () => {
        const client = await openRaw(ts);
        const { code: answered, disconnected } = await expectCloseHandshake(ts, client, closePayload(code), [code, 1002]);
        expect(disconnected.statusCode).toBe(answered);
      });
    }
  });

  it('a client close while the server is mid-way through a large echo still gets the rest, then the close', async () => {
    const client = await openRaw(ts);
    const big = repeatTo('0123456789', 3 * 1024 * 1024);
    client.write(Buffer.concat([buildFrame(Op.Binary, big), buildFrame(Op.Close, closePayload(1000))]));
    const { before } = await expectCloseHandshake(ts, client, null, 1000, 10000);
    expectSameBytes(Buffer.concat(before.map((f) => f.payload)), big);
    expect(before[0]?.opcode).toBe(Op.Binary);
    expect(before.at(-1)?.fin).toBe(true);
  });
});
