import { OperationNotAllowedError } from '../../core/errors.js';
import type { ImageDetail } from '../../core/models/image.js';
import type { User } from '../../core/models/user.js';

/** The ownership rule for every write to an existing image: its author, or an admin. */
export function mayModifyImage(actor: User, image: Pick<ImageDetail, 'author'>): boolean {
  return actor.is_admin || actor.username === image.author;
}

/** Throws OperationNotAllowedError (403) unless `actor` may change or delete `image`. */
export function assertMayModifyImage(actor: User, image: Pick<ImageDetail, 'guid' | 'author'>): void {
  if (!mayModifyImage(actor, image)) {
    throw new OperationNotAllowedError(`Only the author of image ${image.guid} or an admin may change or delete it`);
  }
}
