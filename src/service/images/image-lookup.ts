import { RecordNotFoundError } from '../../core/errors.js';
import type { ContentInfo, StoredImage } from '../../core/models/image.js';
import type { ImageRepository } from '../../data/image-repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The 404 for a guid that names no image; the guid is echoed, cut to 64 characters. */
export function imageNotFound(guid: string): RecordNotFoundError {
  return new RecordNotFoundError(`No image has the guid "${guid.slice(0, 64)}"`);
}

/**
 * The stored form of a guid: lowercase. Anything that is not a UUID cannot name an image (the web
 * layer answers 400 for those before they get here). @throws RecordNotFoundError
 */
export function canonicalGuid(guid: string): string {
  const lowered = guid.toLowerCase();
  if (!UUID.test(lowered)) throw imageNotFound(guid);
  return lowered;
}

/** The image a client-given guid names, in any letter case. @throws RecordNotFoundError when there is none. */
export async function findImage(images: Pick<ImageRepository, 'findByGuid'>, guid: string): Promise<StoredImage> {
  const image = await images.findByGuid(canonicalGuid(guid));
  if (image === undefined) throw imageNotFound(guid);
  return image;
}

/** What a content request needs of the image a client-given guid names. @throws RecordNotFoundError when there is none. */
export async function findContentInfo(images: Pick<ImageRepository, 'findContentInfo'>, guid: string): Promise<ContentInfo> {
  const info = await images.findContentInfo(canonicalGuid(guid));
  if (info === undefined) throw imageNotFound(guid);
  return info;
}
