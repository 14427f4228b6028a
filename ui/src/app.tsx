import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { GridView, type GridState } from './grid-view';
import { ImageView } from './image-view';
import { Link } from './link';
import { gridUrl, navigate, routeOf, type Filters, type Route } from './route';
import { loadSession, saveSession, type Session } from './session';
import { SignInDialog } from './sign-in-dialog';

function currentRoute(): Route {
  return routeOf(window.location);
}

/** The whole page: a header (search, sign in/out) above the view the URL names. */
export function App() {
  const [route, setRoute] = useState<Route>(currentRoute);
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [signingIn, setSigningIn] = useState(false);
  // Grids already loaded, by URL, so the back button returns to the images (and the scroll
  // position) the person left instead of starting over at page one.
  const grids = useRef(new Map<string, GridState>());
  // Signing in or out swaps the header's button for the other one, and the dialog that had the focus
  // goes away: the focus moves to the new button instead of falling back to the page's start.
  const accountButton = useRef<HTMLButtonElement>(null);
  const focusAccountButton = useRef(false);
  useEffect(() => {
    if (!focusAccountButton.current) return;
    focusAccountButton.current = false;
    accountButton.current?.focus();
  });

  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('popstate', update);
    window.addEventListener('pixyproxy:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('pixyproxy:navigate', update);
    };
  }, []);

  useEffect(() => {
    document.title = route.view === 'image' ? 'Image · pixyproxy' : 'pixyproxy gallery';
  }, [route]);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setSession(next);
    setSigningIn(false);
    focusAccountButton.current = true;
  }, []);
  const cancelSignIn = useCallback(() => {
    setSigningIn(false);
    focusAccountButton.current = true;
  }, []);
  const signOut = useCallback(() => {
    saveSession(undefined);
    setSession(undefined);
    focusAccountButton.current = true;
  }, []);

  /** A created, changed or deleted image makes every cached grid stale except the one we patch. */
  const onCreated = useCallback(() => {
    grids.current.clear();
    // A filtered grid may not show the new image; the unfiltered one has it first.
    if (route.view === 'grid' && (route.filters.q || route.filters.tag || route.filters.author)) navigate('/');
  }, [route]);
  const onChanged = useCallback(() => grids.current.clear(), []);

  // The image last shown: back in the grid, the focus returns to its tile, so a keyboard user goes on
  // from where they left instead of from the top of the page. Handed to the next grid only.
  const lastImage = useRef<string | undefined>(undefined);
  let returnFocusTo: string | undefined;
  if (route.view === 'image') lastImage.current = route.guid;
  else if (route.view === 'grid') {
    returnFocusTo = lastImage.current;
    lastImage.current = undefined;
  }

  const filters: Filters = route.view === 'grid' ? route.filters : {};
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="site-header">
        <Link class="brand" href="/">pixyproxy</Link>
        <SearchBox key={filters.q ?? ''} filters={filters} />
        <div class="account">
          {session ? (
            <>
              <span class="username" aria-label="Signed in as">{session.me.username}</span>
              <button type="button" ref={accountButton} onClick={signOut}>Sign out</button>
            </>
          ) : (
            <button type="button" ref={accountButton} onClick={() => setSigningIn(true)}>Sign in</button>
          )}
        </div>
      </header>
      {signingIn && <SignInDialog onSignedIn={signIn} onCancel={cancelSignIn} />}
      <main id="main" tabIndex={-1}>
        {route.view === 'grid' && (
          <GridView
            key={gridUrl(route.filters)}
            filters={route.filters}
            session={session}
            cache={grids.current}
            onCreated={onCreated}
            returnFocusTo={returnFocusTo}
          />
        )}
        {route.view === 'image' && <ImageView key={route.guid} guid={route.guid} session={session} onChanged={onChanged} />}
        {route.view === 'missing' && (
          <section class="message">
            <h1>Page not found</h1>
            <p>
              There is nothing at this address. <Link href="/">Back to the gallery</Link>
            </p>
          </section>
        )}
      </main>
    </>
  );
}

/** The prompt search: submitting it keeps the tag and author filters and changes only `q`. */
function SearchBox({ filters }: { filters: Filters }) {
  const [text, setText] = useState(filters.q ?? '');
  return (
    <form
      class="search"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        navigate(gridUrl({ ...filters, q: text.trim() || undefined }));
      }}
    >
      <label for="search-prompts" class="visually-hidden">Search prompts</label>
      <input id="search-prompts" type="search" value={text} placeholder="Search prompts" onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
  );
}
