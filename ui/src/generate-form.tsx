import { useState } from 'preact/hooks';
import { createImage, parseTags, type ImageDetail } from './api';
import type { Session } from './session';

/**
 * `POST /image` as a form. While the generation runs the button is disabled and a status says so;
 * a refusal, a quota or a validation problem shows the problem's detail.
 */
export function GenerateForm({ session, onCreated }: { session: Session; onCreated: (image: ImageDetail) => void }) {
  const [prompt, setPrompt] = useState('');
  const [tags, setTags] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<string>();

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(undefined);
    try {
      const image = await createImage(session.credentials, { prompt: prompt.trim(), tags: parseTags(tags) });
      setPrompt('');
      setTags('');
      setCreated(image.prompt);
      onCreated(image);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="generate" aria-labelledby="generate-title" onSubmit={submit} aria-busy={busy}>
      <h2 id="generate-title">Generate an image</h2>
      <label>
        Prompt
        <textarea name="prompt" rows={2} required maxLength={4000} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
      </label>
      <label>
        Tags
        <input name="tags" value={tags} placeholder="comma-separated, e.g. sea, dusk" onInput={(e) => setTags(e.currentTarget.value)} />
      </label>
      <div class="actions">
        <button type="submit" disabled={busy}>Generate</button>
        <span role="status" class="status">
          {busy ? 'Generating… this can take a while.' : created ? `Created “${created}”.` : ''}
        </span>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
