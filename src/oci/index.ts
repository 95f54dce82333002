/** OCI registries: attach Sigstore bundles to images as referrers, and find them again. */
export {
  parseImageReference,
  parseRepositoryReference,
  isImageReference,
  formatImage,
  referrersTag,
  type ImageRef,
  type RepositoryRef,
} from './reference.js';
export {
  RegistryClient,
  MEDIA_TYPES,
  type Descriptor,
  type RegistryClientOptions,
} from './client.js';
export { REGISTRY_LIMITS, isLoopbackHost } from './http.js';
export { resolveCredentials, type Credentials } from './credentials.js';
export {
  attachBundle,
  discoverBundles,
  noAttestationsFound,
  BUNDLE_ARTIFACT_TYPE,
  type AttachResult,
  type DiscoveryResult,
  type DiscoveredBundle,
} from './bundles.js';
export { registryOptionsFrom, type RegistryFlags } from './options.js';
export { collectFromRegistries, readImagesFile, type RegistryCollection } from './collect.js';
