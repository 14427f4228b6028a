import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { EndpointNotFoundError } from '../core/errors.js';

/**
 * Where `npm run build` puts the page (`vite build`, see ui/vite.config.ts). Resolved from this
 * module, which sits at the same depth in src/web and dist/web, so `tsx` and the compiled build
 * find the same directory.
 */
export const DEFAULT_GALLERY_DIR = fileURLToPath(new URL('../../ui/dist', import.meta.url));

/** The client-side routes of the page; each answers the same HTML and the page reads the URL. */
const PAGE_ROUTES = ['/', '/images/:guid'];

export interface GalleryPageOptions {
  /** A directory holding `index.html` and `assets/` as Vite builds them. */
  dir: string;
}

/**
 * The gallery page at `/` (and `/images/{guid}`): the HTML revalidated on every load
 * (`no-cache`), so a new build is picked up at once, and Vite's content-hashed assets under
 * `/assets/` cached for a year as `immutable` (RFC 8246). When the page has not been built the
 * routes answer 404 problem+json saying so, and the API works as before.
 */
export async function galleryPage(app: FastifyInstance, opts: GalleryPageOptions) {
  const indexFile = join(opts.dir, 'index.html');
  const html = existsSync(indexFile) ? readFileSync(indexFile) : undefined;
  for (const url of PAGE_ROUTES) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      if (html === undefined) throw new EndpointNotFoundError('The gallery page has not been built; run `npm run build`');
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    });
  }
  if (html === undefined) return;
  await app.register(fastifyStatic, {
    root: join(opts.dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    // Every file name carries a hash of its content, so a changed file is a new URL.
    cacheControl: true,
    maxAge: 365 * 24 * 60 * 60 * 1000,
    immutable: true,
    schemaHide: true,
  });
}
