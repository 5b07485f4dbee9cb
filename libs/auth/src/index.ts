export { AllOrgs, type Claims, ClaimsSchema, mayUseOrg } from './claims.js';
export { DevSecretFile, loadOrCreateDevSecret } from './dev-secret.js';
export { ForbiddenError, RefusalReason, UnauthenticatedError } from './errors.js';
export { type MintOptions, mintToken, parseTtl } from './mint.js';
export {
  bearerToken,
  createVerifier,
  JwksAlgorithms,
  SecretAlgorithms,
  type TokenVerifier,
  type VerifierSettings,
  verifyToken,
} from './verifier.js';
