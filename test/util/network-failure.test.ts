/**
 * networkFailure: the one reading of why a request got no (whole) answer, shared by the
 * signing services' clients and the registry client. Errors shaped as fetch (undici) throws
 * them: a DOMException for a deadline, a TypeError whose cause carries the socket's errno.
 */
import test from 'ava';
import { networkFailure } from '../../src/util/network-failure.js';

const fetchError = (message: string, cause?: { code?: string; message?: string }) =>
  Object.assign(new TypeError(message), cause ? { cause } : {});

test('a deadline, by either name an abort gives it, is "timed out after N ms" and worth a retry', (t) => {
  for (const name of ['TimeoutError', 'AbortError'])
    t.deepEqual(networkFailure(new DOMException('aborted', name), 1500), {
      reason: 'timed out after 1500 ms',
      permanent: false,
    });
});

test("the socket's errno, with its message when that says more; worth a retry", (t) => {
  t.deepEqual(
    networkFailure(
      fetchError('fetch failed', {
        code: 'ECONNREFUSED',
        message: 'connect ECONNREFUSED 127.0.0.1:9',
      }),
      1000,
    ),
    { reason: 'ECONNREFUSED', permanent: false },
  );
  // A body cut off mid-way: undici's "terminated" says nothing; its cause does.
  t.deepEqual(
    networkFailure(
      fetchError('terminated', { code: 'UND_ERR_SOCKET', message: 'other side closed' }),
      1000,
    ),
    { reason: 'UND_ERR_SOCKET (other side closed)', permanent: false },
  );
  t.deepEqual(networkFailure(fetchError('fetch failed', { code: 'ENOTFOUND' }), 1000), {
    reason: 'ENOTFOUND',
    permanent: false,
  });
});

test('no errno behind it: the reason fetch gives, and permanent (the URL itself cannot work)', (t) => {
  t.deepEqual(networkFailure(fetchError('fetch failed', { message: 'bad port' }), 1000), {
    reason: 'bad port',
    permanent: true,
  });
  t.deepEqual(networkFailure(fetchError('Invalid URL'), 1000), {
    reason: 'Invalid URL',
    permanent: true,
  });
});
