/** `stella/sign`: keyless signing as a library (bytes and trust material in, a bundle out). */
export { signArtifact, type SignInput, type SignOptions, type SignResult } from './sign.js';
export {
  defaultSignerConfig,
  loadSignerConfig,
  loadFulcioRoots,
  type SignerConfig,
} from './config.js';
export {
  parseSigningConfig,
  loadSigningConfig,
  selectSigningServices,
  type SigningConfig,
  type SelectedServices,
} from './signing-config.js';
export {
  readPrivateKeyFile,
  parsePrivateKeyPem,
  COSIGN_PASSWORD_ENV,
  type PrivateKeyFileOptions,
} from './private-key.js';
