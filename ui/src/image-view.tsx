import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, contentUrl, deleteImage, getImage, parseTags, thumbnailSrcset, updateTags, type ImageDetail } from './api';
import { Link } from './link';
import { gridUrl, navigate } from './route';
import { mayChange, type Session } from './session';

const FORMAT_NAMES: Record<string, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP', 'image/avif': 'AVIF' };

/** One image large, with everything the catalogue knows about it and what the viewer may do. */
export function ImageView({ guid, session, onChanged }: { guid: string; session: Session | undefined; onChanged: () => void }) {
  const [image, setImage] = useState<ImageDetail>();
  const [error, setError] = useState<{ status: number; message: string }>();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let live = true;
    getImage(guid).then(
      (detail) => live && setImage(detail),
      (failure: unknown) => live && setError({ status: failure instanceof ApiError ? failure.problem.status : 0, message: (failure as Error).message }),
    );
    return () => {
      live = false;
    };
  }, [guid]);

  useEffect(() => {
    // Moving focus to the new content tells keyboard and screen-reader users the view changed.
    if (image) heading.current?.focus();
  }, [image !== undefined]);

  if (error) {
    // A 400 here means the address's guid is not a UUID (a link cut short, say): to a person that is
    // an image that is not there, not a validation path.
    const missing = error.status === 404 || error.status === 400;
    return (
      <section class="message">
        <h1>{missing ? 'Image not found' : 'Could not load the image'}</h1>
        <p role="alert">{error.status === 400 ? 'This address does not name an image; the link may be incomplete.' : error.message}</p>
        <p><Link href="/">Back to the gallery</Link></p>
      </section>
    );
  }
  if (!image) return <p role="status">Loading image…</p>;

  const created = new Date(image.created_at);
  return (
    <article class="image-page" aria-labelledby="image-title">
      <p class="back"><Link href="/">← Gallery</Link></p>
      <div class="image-large">
        <img src={contentUrl(image.guid, 1024)} srcset={thumbnailSrcset(image.guid)} sizes="(max-width: 900px) 100vw, 60vw" alt={image.prompt} />
      </div>
      <div class="image-info">
        <h1 id="image-title" ref={heading} tabIndex={-1}>{image.prompt}</h1>
        <dl>
          {image.revised_prompt && (
            <>
              <dt>Revised prompt</dt>
              <dd>{image.revised_prompt}</dd>
            </>
          )}
          <dt>Tags</dt>
          <dd>
            {image.tags.length === 0 ? 'none' : (
              <ul class="tags" aria-label="Tags">
                {image.tags.map((tag) => <li key={tag}><Link href={gridUrl({ tag })} class="tag">#{tag}</Link></li>)}
              </ul>
            )}
          </dd>
          <dt>Author</dt>
          <dd><Link href={gridUrl({ author: image.author })}>{image.author}</Link></dd>
          <dt>Model</dt>
          <dd>{image.model ?? 'unknown'}</dd>
          <dt>Size</dt>
          <dd>{image.size ?? 'unknown'}</dd>
          <dt>Format</dt>
          <dd>{FORMAT_NAMES[image.content_type] ?? image.content_type}, {formatBytes(image.byte_size)}</dd>
          <dt>Created</dt>
          <dd><time dateTime={image.created_at}>{created.toLocaleString()}</time></dd>
        </dl>
        <div class="actions">
          <a class="button" href={contentUrl(image.guid)} download={image.filename}>Download</a>
          <CopyLink />
        </div>
        {mayChange(session, image.author) && session && (
          <OwnerActions image={image} session={session} onUpdated={(next) => { setImage(next); onChanged(); }} onDeleted={() => { onChanged(); navigate('/', { replace: true }); }} />
        )}
      </div>
    </article>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function CopyLink() {
  const [status, setStatus] = useState('');
  async function copy() {
    try {
      await navigator.clipboard.writeText(window.location.href);
      setStatus('Link copied');
    } catch {
      setStatus(`Copy this link: ${window.location.href}`);
    }
  }
  return (
    <>
      <button type="button" class="secondary" onClick={() => void copy()}>Copy link</button>
      <span role="status" class="status">{status}</span>
    </>
  );
}

function OwnerActions({ image, session, onUpdated, onDeleted }: {
  image: ImageDetail;
  session: Session;
  onUpdated: (image: ImageDetail) => void;
  onDeleted: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [tags, setTags] = useState(image.tags.join(', '));
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // The element that had the focus goes away when the form or the dialog does: move the focus on
  // ourselves (an `autofocus` attribute acts only when a page loads, not when Preact inserts it).
  const tagsField = useRef<HTMLInputElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const focusNext = useRef<'tags' | 'edit' | 'delete' | undefined>(undefined);
  useEffect(() => {
    if (focusNext.current === undefined) return;
    const target = { tags: tagsField, edit: editButton, delete: deleteButton }[focusNext.current].current;
    if (!target) return;
    focusNext.current = undefined;
    target.focus();
  });

  function startEditing() {
    focusNext.current = 'tags';
    setEditing(true);
  }
  function stopEditing() {
    focusNext.current = 'edit';
    setEditing(false);
  }
  function cancelEditing() {
    setTags(image.tags.join(', '));
    stopEditing();
  }
  function cancelDelete() {
    focusNext.current = 'delete';
    setConfirming(false);
  }

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onUpdated(await updateTags(session.credentials, image.guid, parseTags(tags)));
      stopEditing();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      await deleteImage(session.credentials, image.guid);
      onDeleted();
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
      cancelDelete();
    }
  }

  return (
    <section class="owner-actions" aria-label="Manage image">
      {editing ? (
        <form
          onSubmit={save}
          class="edit-tags"
          onKeyDown={(e) => {
            if (e.key === 'Escape') cancelEditing();
          }}
        >
          <label>
            Tags
            <input name="tags" ref={tagsField} value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <button type="submit" disabled={busy}>Save tags</button>
            <button type="button" class="secondary" onClick={cancelEditing}>Cancel</button>
          </div>
        </form>
      ) : (
        <div class="actions">
          <button type="button" class="secondary" ref={editButton} onClick={startEditing}>Edit tags</button>
          <button type="button" class="danger" ref={deleteButton} onClick={() => setConfirming(true)}>Delete</button>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {confirming && <ConfirmDelete busy={busy} onConfirm={() => void remove()} onCancel={cancelDelete} />}
    </section>
  );
}

function ConfirmDelete({ busy, onConfirm, onCancel }: { busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  return (
    <dialog ref={dialog} class="dialog" role="alertdialog" aria-labelledby="delete-title" aria-describedby="delete-text" onClose={onCancel}>
      <h2 id="delete-title">Delete this image?</h2>
      <p id="delete-text">The image and its bytes are removed for everyone. This cannot be undone.</p>
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={onConfirm}>Delete image</button>
        <button type="button" class="secondary" onClick={onCancel} autoFocus>Cancel</button>
      </div>
    </dialog>
  );
}
