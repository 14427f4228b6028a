/**
 * The generation room: the `ImageGenerator` port, the limiter every generator runs behind, the local
 * generator, the OpenAI adapter (`openai/`, loaded only when configured), and the generation job
 * queue (in this process, or BullMQ on Redis). The rest of the code
 * imports this file only.
 */
export type { GeneratedImage, GenerationRequest, ImageGenerator } from './image-generator.js';
export { createGenerator } from './create-generator.js';
export { GenerationLimiter, type GenerationLimits } from './generation-limiter.js';
export { LOCAL_DEFAULT_SIZE, LocalImageGenerator, type LocalGeneratorOptions } from './local-generator.js';
export { MalformedPngError, readPngDimensions } from './png-structure.js';
export {
  FAMILY_RULES,
  describeImageOptions,
  familyRulesOf,
  outputFormatOf,
  parseSize,
  resolveImageOptions,
  type Background,
  type FamilyName,
  type FamilyRules,
  type ImageOptions,
  type ImageOptionsInput,
  type ModelPolicy,
  type Moderation,
  type OutputFormat,
  type Quality,
  type Style,
} from './image-options.js';
export {
  assertPriced,
  costOf,
  formatUsd,
  loadPriceTable,
  parsePriceTable,
  parseUsd,
  shippedPriceTable,
  worstCaseCostOf,
  type BillableImage,
  type PriceTable,
} from './price-table.js';
export { detectImage, UnrecognisedImageError, type DetectedImage, type ImageMediaType } from './media-type.js';
export { EndUserIds, END_USER_ID_SECRET_FILE, loadOrCreateEndUserSecret } from './end-user-id.js';
export type { BullMqJobQueue, BullMqJobQueueOptions } from './bullmq-job-queue.js';
export { openBullMqJobQueue } from './open-bullmq-job-queue.js';
export {
  JOB_RETENTION_MS,
  type GenerationJob,
  type GenerationJobData,
  type GenerationJobQueue,
  type JobProcessor,
  type JobResult,
  type JobStatus,
  type QuotaHold,
} from './generation-jobs.js';
export { InProcessJobQueue, type InProcessJobQueueOptions } from './in-process-job-queue.js';
