export { AllOrgs, ClaimsSchema, mayUseOrg, type Claims } from './claims.js';
export { ForbiddenError, RefusalReason, UnauthenticatedError } from './errors.js';
export {
  JwksAlgorithms,
  SecretAlgorithms,
  bearerToken,
  createVerifier,
  verifyToken,
  type TokenVerifier,
  type VerifierSettings,
} from './verifier.js';
export { mintToken, parseTtl, type MintOptions } from './mint.js';
export { DevSecretFile, loadOrCreateDevSecret } from './dev-secret.js';
