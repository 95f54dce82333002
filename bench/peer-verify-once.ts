/** One whole @sigstore/verify verification in its own process (for the start-up comparison). */
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';

const [bundlePath, artifactPath, rootPath, identity, issuer] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const verifier = new Verifier(
  toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8')))),
);
verifier.verify(
  toSignedEntity(
    bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8'))),
    readFileSync(artifactPath),
  ),
  {
    subjectAlternativeName: identity,
    extensions: { issuer },
  },
);
