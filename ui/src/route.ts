// The URL is the view: `/?q=&tag=&author=` is the grid with those filters, `/images/{guid}` one image.
// Links can be shared, and history (pushState/popstate) makes the back button work.

export interface Filters {
  q?: string;
  tag?: string;
  author?: string;
}

export type Route = { view: 'grid'; filters: Filters } | { view: 'image'; guid: string } | { view: 'missing' };

const FILTER_KEYS = ['q', 'tag', 'author'] as const;

export function routeOf(location: { pathname: string; search: string }): Route {
  const image = /^\/images\/([^/]+)\/?$/.exec(location.pathname);
  if (image?.[1]) return { view: 'image', guid: decodeURIComponent(image[1]) };
  if (location.pathname !== '/') return { view: 'missing' };
  const params = new URLSearchParams(location.search);
  const filters: Filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return { view: 'grid', filters };
}

export function gridUrl(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

export function imageUrl(guid: string): string {
  return `/images/${encodeURIComponent(guid)}`;
}

/** How many images the page asks for per request; explicit, so the server's default does not matter. */
export const PAGE_SIZE = 24;

/** The first page of `GET /image` for these filters. */
export function listUrl(filters: Filters): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  return `/image?${params.toString()}`;
}

/** Client-side navigation: a new history entry and a `popstate`-like notification. */
export function navigate(url: string, { replace = false } = {}): void {
  if (url === `${location.pathname}${location.search}`) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event('pixyproxy:navigate'));
}

/** An `<a>` click that should stay in the page (plain left click, no modifier keys). */
export function isPlainClick(event: MouseEvent): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}
