/**
 * cosign's legacy formats made from a Sigstore bundle's parts, exactly as cosign makes them:
 * the legacy bundle file (`cosign sign-blob` or `attest-blob --bundle` without
 * --new-bundle-format, its
 * NewLegacyBundleFromProtoBundleComponents) and the Rekor bundle inside it and in a `.att`
 * layer's annotation. The tests' one maker of these formats.
 */
import { derToPem } from '../../src/util/pem.js';

type Json = Record<string, any>;

/** What cosign writes for a bundle's parts: the legacy LocalSignedPayload. */
export function cosignLegacyFileOf(
  bundle: Json,
  cert: 'pem' | 'der' | { keyPem: string } = 'pem',
): Json {
  const vm = bundle.verificationMaterial;
  const der = Buffer.from(
    vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0].rawBytes ?? '',
    'base64',
  );
  const certField =
    typeof cert === 'object'
      ? Buffer.from(cert.keyPem).toString('base64')
      : cert === 'der'
        ? der.toString('base64')
        : Buffer.from(derToPem(der)).toString('base64');
  const e = vm.tlogEntries?.[0];
  return {
    base64Signature: bundle.dsseEnvelope
      ? Buffer.from(JSON.stringify(goEnvelope(bundle.dsseEnvelope))).toString('base64')
      : bundle.messageSignature.signature,
    cert: certField,
    ...(e ? { rekorBundle: cosignRekorBundleOf(e) } : {}),
  };
}

/**
 * A DSSE envelope as cosign attest-blob puts it in base64Signature: Go's encoding/json of the
 * protobuf struct (payload, payloadType, signatures; empty fields left out).
 */
function goEnvelope(e: Json): Json {
  return {
    payload: e.payload,
    payloadType: e.payloadType,
    signatures: e.signatures.map((s: Json) => ({
      sig: s.sig,
      ...(s.keyid ? { keyid: s.keyid } : {}),
    })),
  };
}

/** What cosign's Rekor bundle holds: a Rekor v1 entry with its SET. */
export interface CosignRekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

/**
 * cosign's Rekor bundle of a bundle's log entry (its SET and the entry's coordinates), as the
 * legacy file's `rekorBundle` and a `.att` layer's `dev.sigstore.cosign/bundle` annotation hold it.
 */
export function cosignRekorBundleOf(e: Json): CosignRekorBundle {
  return {
    SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
    Payload: {
      body: e.canonicalizedBody,
      integratedTime: Number(e.integratedTime),
      logIndex: Number(e.logIndex ?? 0),
      logID: Buffer.from(e.logId.keyId, 'base64').toString('hex'),
    },
  };
}
