/**
 * The images room: catalogue rules (create, read, list, update, delete), the commands a request body
 * becomes, the ownership rule and the listing cursor. The rest of the code imports this file only.
 */
export { createImageCommand, normaliseTags, updateTagsCommand, type CreateImageCommand, type UpdateTagsCommand } from './image-commands.js';
export { mayModifyImage, assertMayModifyImage } from './image-permissions.js';
export { decodeCursor, encodeCursor } from './listing-cursor.js';
export { PrivateImageService, type PrivateImageServiceDeps } from './private-image-service.js';
export { PublicImageService } from './public-image-service.js';
export {
  IDEMPOTENCY_KEY_TTL_MS,
  ImageCreationService,
  imageJobProcessor,
  type CreateRequest,
  type CreateResponse,
  type ImageCreationDeps,
} from './image-creation-service.js';
