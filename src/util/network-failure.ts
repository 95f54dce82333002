/**
 * Why a request got no answer, or no whole one, as the user needs it: the deadline, the errno
 * (ECONNREFUSED, ENOTFOUND, a socket closed mid-body...) or the reason fetch gives (a bad port,
 * an invalid URL), never a bare "fetch failed" or "terminated". A failure with no network errno
 * behind it (the URL itself cannot work) is permanent: a retry cannot help. One reading for
 * the signing services' clients (sign/http.ts) and the registry client (oci/http.ts), for the
 * request and for reading its body alike.
 */
export function networkFailure(
  e: unknown,
  timeoutMs: number,
): { reason: string; permanent: boolean } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  // AbortSignal.timeout aborts with a TimeoutError; a fetch aborted by any other signal says
  // AbortError, and both mean the deadline passed.
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return { reason: `timed out after ${timeoutMs} ms`, permanent: false };
  if (err.cause?.code)
    return {
      reason: `${err.cause.code}${err.cause.message && !err.cause.message.includes(err.cause.code) ? ` (${err.cause.message})` : ''}`,
      permanent: false,
    };
  return { reason: err.cause?.message ?? err.message, permanent: true };
}
