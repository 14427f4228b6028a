import type { BullMqJobQueueOptions } from './bullmq-job-queue.js';
import type { GenerationJobQueue } from './generation-jobs.js';

/**
 * `BullMqJobQueue.open`, with bullmq loaded only here: a server without REDIS_URL runs its jobs in
 * process and never pays for loading it at start-up. @throws what BullMqJobQueue.open throws
 * (SharedStateUnavailableError when Redis does not answer).
 */
export async function openBullMqJobQueue(options: BullMqJobQueueOptions): Promise<GenerationJobQueue> {
  const { BullMqJobQueue } = await import('./bullmq-job-queue.js');
  return BullMqJobQueue.open(options);
}
