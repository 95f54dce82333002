import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { mediaTypeOf, readBodyWithin, type BodyLimit } from '../../src/util/http-body.js';

const limit: BodyLimit = {
  maxBytes: 8,
  what: 'test answer',
  code: 'INPUT_INVALID',
  check: 'signing',
};

/** A body sent in chunks; `pulled` counts the chunks the reader asked for. */
function chunked(chunks: Uint8Array[], headers: Record<string, string> = {}) {
  const state = { pulled: 0, cancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      state.pulled++;
      const next = chunks[i++];
      if (next === undefined) c.close();
      else c.enqueue(next);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { res: new Response(stream, { headers }), state };
}

test('a body within the limit is read whole, from however many chunks', async (t) => {
  const { res } = chunked([Uint8Array.of(1, 2, 3), Uint8Array.of(4), Uint8Array.of(5, 6, 7, 8)]);
  t.deepEqual(await readBodyWithin(res, limit), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  t.deepEqual(await readBodyWithin(new Response(null), limit), new Uint8Array(0));
});

test('a declared Content-Length over the limit is refused before a byte is read', async (t) => {
  const { res, state } = chunked([new Uint8Array(9)], { 'content-length': '9' });
  const err = await t.throwsAsync(readBodyWithin(res, limit), { instanceOf: StellaError });
  t.is(err?.code, 'INPUT_INVALID');
  t.is(err?.check, 'signing');
  t.is(err?.message, 'test answer is larger than its 8-byte limit (Content-Length 9)');
  t.deepEqual(err?.details, { limit: 8 });
  t.true(state.cancelled);
  // A stream pulls once when it is created (highWaterMark 1); nothing more was asked for.
  t.true(state.pulled <= 1);
});

test('a body that grows past the limit is refused and the stream cancelled', async (t) => {
  // Declares less than it sends: the count of bytes received decides, not the header.
  const { res, state } = chunked([new Uint8Array(5), new Uint8Array(4), new Uint8Array(1000)], {
    'content-length': '5',
  });
  const err = await t.throwsAsync(readBodyWithin(res, limit), { instanceOf: StellaError });
  t.is(err?.message, 'test answer is larger than its 8-byte limit (more than 8 bytes sent)');
  t.true(state.cancelled);
  t.true(state.pulled < 3);
});

test('exactly the limit is accepted', async (t) => {
  const { res } = chunked([new Uint8Array(8)], { 'content-length': '8' });
  t.is((await readBodyWithin(res, limit)).length, 8);
});

test('mediaTypeOf: the media type without parameters, lower case; empty when there is no header', (t) => {
  t.is(mediaTypeOf('application/json'), 'application/json');
  t.is(mediaTypeOf(' Application/JSON ; charset=utf-8'), 'application/json');
  t.is(mediaTypeOf('application/timestamp-reply;x=1;y=2'), 'application/timestamp-reply');
  t.is(mediaTypeOf(''), '');
  t.is(mediaTypeOf(null), '');
  t.is(mediaTypeOf(undefined), '');
});
