/**
 * Proactive negotiation of a thumbnail's format from `Accept` (RFC 9110 §12.5.1): AVIF when the
 * client names `image/avif`, else WebP when it names `image/webp`, else undefined (the original's
 * format). Wildcards (`image/*`, `*\/*`) do not count: every browser sends them, also those that
 * cannot decode AVIF, so only an explicit media range with q > 0 opts in.
 */
export function preferredImageFormat(accept: string | undefined): 'image/avif' | 'image/webp' | undefined {
  if (accept === undefined) return undefined;
  const accepted = new Set<string>();
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(weight) && weight > 0) accepted.add(type);
  }
  if (accepted.has('image/avif')) return 'image/avif';
  if (accepted.has('image/webp')) return 'image/webp';
  return undefined;
}
