/** Root rotation across the air gap: create, read, verify and apply signed rotation bundles. */
export {
  createRotation,
  readRotationBundle,
  signPayload,
  ROTATION_LIMITS,
  ROTATION_FILES,
  ROTATION_PAYLOAD_TYPE,
  type RotationBundle,
  type RotationPayload,
  type CreateRotationInput,
} from './bundle.js';
export { verifyRotation, type VerifiedRotation, type RotationTrust } from './verify.js';
export { applyRotation, type RotationResult, type RotationChange } from './apply.js';
export { readTarStrict, writeTar } from '../../archive/tar.js';
