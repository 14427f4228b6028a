import { useEffect, useRef, useState } from 'preact/hooks';
import { listImages, thumbnailSrcset, contentUrl, type ImageDetail } from './api';
import { GenerateForm } from './generate-form';
import { Link } from './link';
import { gridUrl, imageUrl, listUrl, type Filters } from './route';
import type { Session } from './session';

/** What a grid has loaded so far; kept by the app per URL so going back restores it. */
export interface GridState {
  images: ImageDetail[];
  /** The `Link: rel="next"` URL, or undefined on the last page. */
  next: string | undefined;
  done: boolean;
}

interface GridProps {
  filters: Filters;
  session: Session | undefined;
  cache: Map<string, GridState>;
  onCreated: (image: ImageDetail) => void;
  /** An image whose tile takes the focus once it is shown (the one the person comes back from). */
  returnFocusTo?: string | undefined;
}

const FILTER_LABELS: Record<keyof Filters, string> = { q: 'Search', tag: 'Tag', author: 'Author' };

/** The responsive grid, newest first, loading the next page whenever its end scrolls into view. */
export function GridView({ filters, session, cache, onCreated, returnFocusTo }: GridProps) {
  const key = gridUrl(filters);
  const [state, setState] = useState<GridState>(() => cache.get(key) ?? { images: [], next: listUrl(filters), done: false });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const sentinel = useRef<HTMLDivElement>(null);
  const inFlight = useRef(false);
  const list = useRef<HTMLUListElement>(null);
  const pendingFocus = useRef(returnFocusTo);

  useEffect(() => {
    cache.set(key, state);
  }, [cache, key, state]);

  async function loadMore() {
    if (inFlight.current || state.next === undefined) return;
    inFlight.current = true;
    setLoading(true);
    setError(undefined);
    try {
      const page = await listImages(state.next);
      setState((prev) => ({ images: [...prev.images, ...page.images], next: page.next, done: page.next === undefined }));
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      inFlight.current = false;
      setLoading(false);
    }
  }

  // Focusing the tile also scrolls it into view. Tried again as pages arrive (a grid not kept in
  // memory loads afresh), until the tile is there or the person has moved the focus elsewhere.
  useEffect(() => {
    const guid = pendingFocus.current;
    if (guid === undefined) return;
    if (document.activeElement !== document.body && document.activeElement !== null) {
      pendingFocus.current = undefined;
      return;
    }
    const link = list.current?.querySelector<HTMLAnchorElement>(`a[href="${CSS.escape(imageUrl(guid))}"]`);
    if (link) {
      link.focus();
      pendingFocus.current = undefined;
    }
  }, [state.images]);

  // Infinite scroll: whenever the end of the grid is near the viewport, ask for the next page. The
  // observer is renewed after every page, so a page too short to fill the screen loads the next too.
  useEffect(() => {
    if (state.next === undefined || error !== undefined || loading) return;
    const target = sentinel.current;
    if (!target) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadMore();
    }, { rootMargin: '600px 0px' });
    observer.observe(target);
    return () => observer.disconnect();
  }, [state.next, error, loading]);

  const active = (Object.keys(FILTER_LABELS) as (keyof Filters)[]).filter((k) => filters[k]);
  return (
    <section aria-labelledby="gallery-title">
      <h1 id="gallery-title" class="visually-hidden">Gallery</h1>
      {session && (
        <GenerateForm
          session={session}
          onCreated={(image) => {
            setState((prev) => ({ ...prev, images: [image, ...prev.images.filter((i) => i.guid !== image.guid)] }));
            onCreated(image);
          }}
        />
      )}
      {active.length > 0 && (
        <div class="filters" aria-label="Active filters" role="group">
          <span>Showing:</span>
          <ul>
            {active.map((k) => (
              <li key={k}>
                <span class="chip">
                  {FILTER_LABELS[k]}: <strong>{filters[k]}</strong>
                  <Link href={gridUrl({ ...filters, [k]: undefined })} aria-label={`Remove filter ${FILTER_LABELS[k]}: ${filters[k]}`}>×</Link>
                </span>
              </li>
            ))}
          </ul>
          {active.length > 1 && <Link href="/">Clear all</Link>}
        </div>
      )}
      {state.images.length > 0 && (
        <ul class="grid" aria-label="Images" ref={list}>
          {state.images.map((image) => (
            <Tile key={image.guid} image={image} filters={filters} />
          ))}
        </ul>
      )}
      {state.done && state.images.length === 0 && <EmptyState filtered={active.length > 0} signedIn={session !== undefined} />}
      {error && (
        <div class="error" role="alert">
          <p>Could not load images: {error}</p>
          <button type="button" onClick={() => void loadMore()}>Try again</button>
        </div>
      )}
      <div ref={sentinel} class="sentinel">
        {loading && <p role="status">Loading images…</p>}
        {!loading && !error && state.next !== undefined && state.images.length > 0 && (
          <button type="button" class="secondary" onClick={() => void loadMore()}>Load more</button>
        )}
      </div>
    </section>
  );
}

function Tile({ image, filters }: { image: ImageDetail; filters: Filters }) {
  return (
    <li class="tile">
      <Link href={imageUrl(image.guid)} class="tile-image">
        <img
          src={contentUrl(image.guid, 256)}
          srcset={thumbnailSrcset(image.guid)}
          sizes="(max-width: 480px) 50vw, (max-width: 900px) 33vw, 240px"
          alt={image.prompt}
          loading="lazy"
          decoding="async"
          width={256}
          height={256}
        />
      </Link>
      {/* The prompt is the image's alt text already; the caption is for sighted readers. */}
      <p class="tile-prompt" aria-hidden="true">{image.prompt}</p>
      <div class="tile-meta">
        <ul class="tags" aria-label="Tags">
          {image.tags.map((tag) => (
            <li key={tag}>
              <Link href={gridUrl({ ...filters, tag })} class="tag">#{tag}</Link>
            </li>
          ))}
        </ul>
        <Link href={gridUrl({ ...filters, author: image.author })} class="author" aria-label={`Images by ${image.author}`}>
          {image.author}
        </Link>
      </div>
    </li>
  );
}

function EmptyState({ filtered, signedIn }: { filtered: boolean; signedIn: boolean }) {
  if (filtered) {
    return (
      <div class="message">
        <h2>No images match</h2>
        <p>Nothing matches these filters. Remove one, or <Link href="/">show every image</Link>.</p>
      </div>
    );
  }
  return (
    <div class="message">
      <h2>No images yet</h2>
      <p>
        {signedIn ? 'Type a prompt in the Generate form above to create the first image.' : 'Sign in, then type a prompt in the Generate form to create the first image.'}{' '}
        Programs can create one with <code>POST /image</code>; see the <a href="/docs">API docs</a>.
      </p>
    </div>
  );
}
