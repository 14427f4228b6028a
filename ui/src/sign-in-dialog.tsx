import { useEffect, useRef, useState } from 'preact/hooks';
import { getMe } from './api';
import type { Session } from './session';

/**
 * A modal form for Basic credentials. They are checked with `GET /me` before the dialog closes;
 * wrong ones show the problem's detail and keep the dialog open.
 */
export function SignInDialog({ onSignedIn, onCancel }: { onSignedIn: (session: Session) => void; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const credentials = { username: username.trim(), password };
    try {
      const me = await getMe(credentials);
      onSignedIn({ credentials, me });
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  }

  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="sign-in-title" onClose={onCancel}>
      <form onSubmit={submit}>
        <h2 id="sign-in-title">Sign in</h2>
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="actions">
          <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
          <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </dialog>
  );
}
