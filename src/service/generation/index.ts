/**
 * The generation room: the `ImageGenerator` port, the limiter every generator runs behind, the local
 * generator, the OpenAI adapter (`openai/`, loaded only when configured), and the generation job
 * queue (in this process, or BullMQ on Redis). The rest of the code
 * imports this file only.
 */
export type { GeneratedImage, ImageGenerator } from './image-generator.js';
export { createGenerator } from './create-generator.js';
export { GenerationLimiter, type GenerationLimits } from './generation-limiter.js';
export { LocalImageGenerator, type LocalGeneratorOptions } from './local-generator.js';
export { MalformedPngError, readPngDimensions } from './png-structure.js';
export { BullMqJobQueue, GENERATION_QUEUE_NAME, type BullMqJobQueueOptions } from './bullmq-job-queue.js';
export {
  JOB_RETENTION_MS,
  type GenerationJob,
  type GenerationJobData,
  type GenerationJobQueue,
  type JobProcessor,
  type JobResult,
  type JobStatus,
} from './generation-jobs.js';
export { InProcessJobQueue, type InProcessJobQueueOptions } from './in-process-job-queue.js';
