/**
 * The start of every signed-in page (console, admin): who is signed in (GET /api/v1/me), shown
 * in the banner with a Sign out button. Nobody signed in (or a session that ended): the browser
 * goes to the sign-in page, which brings them back to `next`.
 */
import { ApiError, type MeReply, Requester, signInUrl } from './api.js';
import { byId } from './dom.js';

export interface SignedIn {
  me: MeReply;
  /** Requests as this person (their CSRF token on changes). */
  http: Requester;
}

/** Sends the browser to sign in, to come back to `next`. */
export function toSignIn(next: string): void {
  window.location.assign(signInUrl(next));
}

/** Resolves once the person is known and shown; undefined when the page is going to sign in or cannot load. */
export async function signedIn(next: string): Promise<SignedIn | undefined> {
  let me: MeReply;
  try {
    me = await Requester.me();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) toSignIn(next);
    else {
      const message = err instanceof ApiError ? err.message : 'Something went wrong. Please try again.';
      byId('loading-message').textContent = `${message} Reload the page to try again.`;
    }
    return undefined;
  }
  const http = new Requester(me.csrfToken);
  byId('who-name').textContent = me.user ? `${me.user.displayName}, ${me.practice.name}` : me.practice.name;
  byId('who').hidden = false;
  byId('sign-out').addEventListener('click', () => {
    void http.signOut().then(() => window.location.assign('/signin'));
  }, { once: true });
  return { me, http };
}
