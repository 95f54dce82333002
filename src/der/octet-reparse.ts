/**
 * A model of one peer's leniency, for the sandbox's issuers: @sigstore/core (sigstore-js)
 * tries to read the contents of every OCTET STRING as ASN.1 elements, keeps them as children
 * when they parse, and writes them back with minimal lengths when it re-encodes a
 * certificate's TBSCertificate (to check its signature), an RFC 3161 token's signed attributes
 * or its TSTInfo (to check their signature and digest). Contents that happen to parse with a
 * non-minimal length (`81 05`, `82 00 05`, ...) come back as other bytes, so the peer checks a
 * signature over bytes that were never signed and refuses a valid certificate or token.
 *
 * Random contents hit this rarely (about one in 120,000 random 20- or 32-byte strings,
 * measured over 2,000,000 of each: README, "The local signing stack"), which made one peer
 * test fail now and then. Stella's own reader is strict DER and unaffected; the
 * sandbox avoids such bytes where it chooses them (key identifiers, a TSA's serial numbers).
 *
 * The rules, as @sigstore/core 3.x's asn1/obj.js and length.js apply them: one identifier
 * octet (low tag number 0x1f and universal tag 0 are refused); a short length, or a long one
 * of 1–6 octets whose value is not 0; the value within the contents. A constructed element's
 * children must parse or the whole reading fails; an OCTET STRING child's contents are read
 * the same way, silently left as they are when they do not parse.
 */

/**
 * True when sigstore-js would write `contents` back differently: `contents` read as a sequence of
 * ASN.1 elements under its rules (a whole DER encoding, such as a certificate or a timestamp
 * token, or the contents of one OCTET STRING), any OCTET STRING whose contents it reads as
 * elements using a non-minimal length. It then checks a signature or digest over bytes that
 * were never signed. False when `contents` do not read as elements at all (they stay as they are).
 */
export function sigstoreJsRewrites(contents: Uint8Array): boolean {
  let pos = 0;
  let changed = false;
  // Called only with pos < end. An element never reads past `end`: sigstore-js may read a
  // header octet beyond its parent's end, but then fails the parent, as refusing here does.
  const element = (end: number): boolean => {
    const tag = contents[pos++]!;
    if ((tag & 0x1f) === 0x1f || (tag >> 6 === 0 && (tag & 0x1f) === 0)) return false;
    if (pos >= end) return false;
    const first = contents[pos++]!;
    let length = first;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count > 6 || pos + count > end) return false;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + contents[pos++]!;
      if (length === 0) return false;
      // Written back in the fewest octets: short form under 128, else no leading zero octet.
      let minimal = 0;
      if (length >= 0x80) for (let v = length; v > 0; v = Math.floor(v / 256)) minimal++;
      if (count !== minimal) changed = true;
    }
    const valueEnd = pos + length;
    if (valueEnd > end) return false;
    if (tag & 0x20) {
      while (pos < valueEnd) if (!element(valueEnd)) return false;
      return true;
    }
    if (tag === 0x04) {
      const start = pos;
      const before = changed;
      let ok = true;
      while (ok && pos < valueEnd) ok = element(valueEnd);
      // Not elements: kept as bytes, as they were (whatever was noted inside does not count).
      if (!ok) {
        changed = before;
        pos = start;
      }
    }
    pos = valueEnd;
    return true;
  };
  while (pos < contents.length) if (!element(contents.length)) return false;
  return changed;
}
