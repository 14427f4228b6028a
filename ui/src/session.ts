import type { Credentials, Me } from './api.js';

// The signed-in user lives in sessionStorage: it survives a reload of the tab but not the tab
// itself, and other tabs never see it. Never localStorage, which would keep a password on disk.
const KEY = 'pixyproxy.session';

export interface Session {
  credentials: Credentials;
  me: Me;
}

export function loadSession(): Session | undefined {
  try {
    const text = sessionStorage.getItem(KEY);
    if (!text) return undefined;
    const value = JSON.parse(text) as Session;
    if (typeof value.credentials?.username === 'string' && typeof value.credentials.password === 'string' && typeof value.me?.username === 'string') return value;
  } catch {
    // Storage disabled or garbled: treat as signed out.
  }
  return undefined;
}

export function saveSession(session: Session | undefined): void {
  try {
    if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the session then lasts until the page is reloaded.
  }
}

/** Whether this session may edit or delete the image: its author, or an admin (docs/API.md). */
export function mayChange(session: Session | undefined, author: string): boolean {
  return session !== undefined && (session.me.admin || session.me.username === author);
}
