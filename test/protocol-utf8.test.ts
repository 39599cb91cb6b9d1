/**
 * Autobahn|Testsuite section 6 against the echo server: UTF-8 handling of text messages.
 *
 * Valid text comes back byte for byte, however it is fragmented. Invalid text fails the
 * connection with 1007, and fails it fast: as soon as the offending byte arrives (6.4.x), even
 * in the middle of a frame whose remaining bytes were never sent. Sections 6.5–6.23 are the
 * UTF-8 decoder stress sequences (after Markus Kuhn's UTF-8-test), each sent as one text frame.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { buildFrame } from './helpers/raw-client.js';
import { Op, closeNormally, expectEcho, expectFailure, openRaw, sleep, startEchoServer } from './helpers/conformance.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** "κόσμε" (Greek), the classic UTF-8 test word: ce ba | e1 bd b9 | cf 83 | ce bc | ce b5. */
const KOSME = hex('ceba e1bdb9 cf83 cebc ceb5');
/** "edited" */
const EDITED = Buffer.from('edited');
/** 6.3.x: a lone surrogate (U+D800) in the middle; the message turns invalid at its second byte. */
const WITH_SURROGATE = Buffer.concat([KOSME, hex('eda080'), EDITED]);
/** 6.4.x: f4 90 80 80 would be U+110000, beyond Unicode; invalid at the 0x90 (byte 12). */
const BEYOND_UNICODE = hex('f4908080');
const FAIL_FAST = Buffer.concat([KOSME, BEYOND_UNICODE, EDITED]);

/** Independent oracle: the WHATWG decoder in fatal mode accepts exactly well-formed UTF-8. */
function isWellFormed(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The decoder stress categories of 6.5–6.23, in Autobahn's order, each with its sequences. */
function stressSequences(): Array<{ title: string; sequences: Buffer[] }> {
  const cats: Array<{ title: string; sequences: Buffer[] }> = [];
  const add = (title: string, sequences: Array<Buffer | string>): void => {
    cats.push({ title, sequences: sequences.map((s) => (typeof s === 'string' ? hex(s) : s)) });
  };
  add('valid sequences', [
    Buffer.from('hello$world'),
    Buffer.from('hello\u00a2world'),
    Buffer.from('hello\u20acworld'),
    Buffer.from('hello\u{24b62}world'),
    KOSME,
  ]);
  add('all prefixes of a valid multi-byte string', Array.from({ length: KOSME.length }, (_, i) => KOSME.subarray(0, i + 1)));
  add('first sequence of each length', ['00', 'c280', 'e0a080', 'f0908080']);
  add('first sequence of length 5 and 6 (beyond Unicode)', ['f888808080', 'fc8480808080']);
  add('last sequence of each length', ['7f', 'dfbf', 'efbfbf', 'f48fbfbf']);
  add('last sequence of length 4, 5 and 6 (beyond Unicode)', ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf']);
  add('other boundary conditions', ['ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf', 'f4908080']);
  const continuationRun = Buffer.from(Array.from({ length: 0xbf - 0x80 }, (_, i) => 0x80 + i));
  add('unexpected continuation bytes', ['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf', continuationRun]);
  const lonely = (from: number, to: number): Buffer => {
    const bytes: number[] = [];
    for (let b = from; b < to; b++) bytes.push(b, 0x20);
    return Buffer.from(bytes);
  };
  add('lonely start bytes', [lonely(0xc0, 0xdf), lonely(0xe0, 0xef), lonely(0xf0, 0xf7), lonely(0xf8, 0xfb), lonely(0xfc, 0xfd)]);
  const truncated = ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf'];
  add('sequences missing their last continuation byte', truncated);
  add('concatenated incomplete sequences', [truncated.join('')]);
  add('impossible bytes', ['fe', 'ff', 'fefeffff']);
  add('overlong ASCII', ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af']);
  add('maximal overlong sequences', ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf']);
  add('overlong NUL', ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080']);
  add('single UTF-16 surrogates', ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf']);
  add('paired UTF-16 surrogates', [
    'eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf',
    'edae80edb080', 'edae80edbfbf', 'edafbfedb080', 'edafbfedbfbf',
  ]);
  const nonCharacters: Buffer[] = [hex('efbfbe'), hex('efbfbf')];
  for (const lead of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const second of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (lead === 0xf4 && second !== 0x8f) continue; // beyond U+10FFFF
      if (lead === 0xf0 && second === 0x8f) continue; // overlong
      for (const last of [0xbe, 0xbf]) nonCharacters.push(Buffer.from([lead, second, 0xbf, last]));
    }
  }
  add('non-characters (valid UTF-8)', nonCharacters);
  add('specials block (valid UTF-8)', ['efbfb9', 'efbfba', 'efbfbb', 'efbfbc', 'efbfbd', 'efbfbe', 'efbfbf']);
  return cats;
}

const STRESS = stressSequences();
const STRESS_CASES = STRESS.flatMap((cat, c) =>
  cat.sequences.map((bytes, j) => ({ id: `6.${c + 5}.${j + 1}`, title: cat.title, bytes, valid: isWellFormed(bytes) })),
);

describe('UTF-8 stress table', () => {
  it('matches Autobahn: 19 categories (6.5–6.23), the expected valid/invalid split', () => {
    expect(STRESS.length).toBe(19);
    // Categories that must be wholly valid or wholly invalid, by Autobahn's table.
    const allValid = [0, 2, 4, 17, 18];
    const allInvalid = [3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    for (const c of allValid) expect(STRESS[c]!.sequences.every(isWellFormed), STRESS[c]!.title).toBe(true);
    for (const c of allInvalid) expect(STRESS[c]!.sequences.some(isWellFormed), STRESS[c]!.title).toBe(false);
    expect(STRESS[1]!.sequences.map(isWellFormed)).toEqual([false, true, false, false, true, false, true, false, true, false, true]);
    expect(STRESS[6]!.sequences.map(isWellFormed)).toEqual([true, true, true, true, false]);
  });
});

describe.each(ENGINES)('Autobahn 6: UTF-8 handling (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  describe('6.1–6.3 valid and invalid text', () => {
    it('6.1.1 empty text message is echoed', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, '');
      await expectEcho(client, Op.Text, '');
      await closeNormally(ts, client);
    });

    it('6.1.2 text message of 3 empty fragments is echoed empty', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([
        buildFrame(Op.Text, '', { fin: false }),
        buildFrame(Op.Continuation, '', { fin: false }),
        buildFrame(Op.Continuation, '', { fin: true }),
      ]));
      await expectEcho(client, Op.Text, '');
      await closeNormally(ts, client);
    });

    it('6.1.3 empty, non-empty, empty fragments: the middle payload is echoed', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([
        buildFrame(Op.Text, '', { fin: false }),
        buildFrame(Op.Continuation, 'middle frame payload', { fin: false }),
        buildFrame(Op.Continuation, '', { fin: true }),
      ]));
      await expectEcho(client, Op.Text, 'middle frame payload');
      await closeNormally(ts, client);
    });

    const HELLO = Buffer.from('Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!');

    it('6.2.1 valid UTF-8 in one frame is echoed', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, HELLO);
      await expectEcho(client, Op.Text, HELLO);
      await closeNormally(ts, client);
    });

    it('6.2.2 valid UTF-8 in two fragments split on a code point boundary is echoed', async () => {
      const client = await openRaw(ts);
      const a = Buffer.from('Hello-\u00b5@\u00df\u00f6\u00e4');
      const b = Buffer.from('\u00fc\u00e0\u00e1-UTF-8!!');
      client.write(Buffer.concat([buildFrame(Op.Text, a, { fin: false }), buildFrame(Op.Continuation, b)]));
      await expectEcho(client, Op.Text, Buffer.concat([a, b]));
      await closeNormally(ts, client);
    });

    for (const [id, text] of [
      ['6.2.3', HELLO],
      ['6.2.4', KOSME],
    ] as const) {
      it(`${id} valid UTF-8 in 1-byte fragments (split inside code points) is echoed`, async () => {
        const client = await openRaw(ts);
        client.write(Buffer.concat([...text].map((b, i) => buildFrame(i === 0 ? Op.Text : Op.Continuation, Buffer.from([b]), { fin: i === text.length - 1 }))));
        await expectEcho(client, Op.Text, text);
        await closeNormally(ts, client);
      });
    }

    it('6.3.1 invalid UTF-8 (a surrogate) in one frame: 1007', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, WITH_SURROGATE);
      expect((await expectFailure(ts, client, 1007)).before).toEqual([]);
    });

    it('6.3.2 the same invalid text in 1-byte fragments: 1007', async () => {
      const client = await openRaw(ts);
      const frames = [...WITH_SURROGATE].map((b, i) =>
        buildFrame(i === 0 ? Op.Text : Op.Continuation, Buffer.from([b]), { fin: i === WITH_SURROGATE.length - 1 }),
      );
      client.write(Buffer.concat(frames));
      expect((await expectFailure(ts, client, 1007)).before).toEqual([]);
    });
  });

  describe('6.4 fail fast on invalid UTF-8', () => {
    /** Nothing arrives and the connection stays open: the valid part was accepted. */
    async function expectStillOpen(client: Awaited<ReturnType<typeof openRaw>>): Promise<void> {
      await sleep(150);
      expect(client.unreadFrames(), 'the server answered a valid prefix').toEqual([]);
      expect(client.ended || client.socket.destroyed).toBe(false);
    }

    for (const [id, cut] of [
      ['6.4.1', 11],
      ['6.4.2', 12],
    ] as const) {
      it(`${id} three frames, the second makes the text invalid: 1007 before the third is sent`, async () => {
        const client = await openRaw(ts);
        const part2End = cut === 11 ? 15 : 13;
        client.write(buildFrame(Op.Text, FAIL_FAST.subarray(0, cut), { fin: false }));
        await expectStillOpen(client);
        client.write(buildFrame(Op.Continuation, FAIL_FAST.subarray(cut, part2End), { fin: false }));
        // The third frame is never sent: the server must fail on what it has.
        const { before } = await expectFailure(ts, client, 1007, 1000);
        expect(before).toEqual([]);
      });
    }

    for (const [id, cut] of [
      ['6.4.3', 11],
      ['6.4.4', 12],
    ] as const) {
      it(`${id} one frame sent in three chops, the second makes the text invalid: 1007 before the rest of the frame`, async () => {
        const client = await openRaw(ts);
        const frame = buildFrame(Op.Text, FAIL_FAST);
        const header = frame.length - FAIL_FAST.length; // 2 + 4-byte mask
        const part2End = cut === 11 ? 15 : 13;
        client.write(frame.subarray(0, header + cut));
        await expectStillOpen(client);
        client.write(frame.subarray(header + cut, header + part2End));
        const { before } = await expectFailure(ts, client, 1007, 1000);
        expect(before).toEqual([]);
      });
    }
  });

  describe('6.5–6.23 UTF-8 decoder stress sequences, one text frame each', () => {
    // One connection per case, as Autobahn does; cases run in groups to keep the suite quick.
    for (const c of STRESS_CASES) {
      it(`${c.id} ${c.title}: ${c.bytes.toString('hex').slice(0, 40)} is ${c.valid ? 'echoed' : 'refused with 1007'}`, async () => {
        const client = await openRaw(ts);
        await client.send(Op.Text, c.bytes);
        if (c.valid) {
          await expectEcho(client, Op.Text, c.bytes);
          await closeNormally(ts, client);
        } else {
          expect((await expectFailure(ts, client, 1007)).before).toEqual([]);
        }
      });
    }
  });

  describe('UTF-8 beyond the Autobahn cases', () => {
    it('a code point split across a ping between fragments is still valid', async () => {
      const client = await openRaw(ts);
      const euro = Buffer.from('\u20ac');
      client.write(Buffer.concat([
        buildFrame(Op.Text, euro.subarray(0, 1), { fin: false }),
        buildFrame(Op.Ping, 'p'),
        buildFrame(Op.Continuation, euro.subarray(1)),
      ]));
      const pong = await client.nextFrame();
      expect(pong?.opcode).toBe(Op.Pong);
      await expectEcho(client, Op.Text, euro);
      await closeNormally(ts, client);
    });

    it('a text message ending inside a code point: 1007', async () => {
      const client = await openRaw(ts);
      client.write(Buffer.concat([buildFrame(Op.Text, 'ok', { fin: false }), buildFrame(Op.Continuation, hex('e282'))]));
      expect((await expectFailure(ts, client, 1007)).before).toEqual([]);
    });

    it('binary messages are never checked for UTF-8', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Binary, WITH_SURROGATE);
      await expectEcho(client, Op.Binary, WITH_SURROGATE);
      await closeNormally(ts, client);
    });
  });
});
