/** The sign-in page (/signin): the organisation's account (OIDC) when configured, else or also a local account. */
import { byId } from '../console/dom.js';
import { send, showProblems, sixDigits, value, type Problem } from './form.js';
import { refusalMessages } from './words.js';

interface Methods { local: boolean; oidc: { name: string } | null }
const FIELDS = ['email', 'password', 'code'] as const;

/** Where to go after signing in: only a path of this site. */
function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/console';
}

export async function startSignin(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const error = params.get('error');
  if (error) byId('signin-problem').textContent = refusalMessages[error] ?? refusalMessages.refused ?? '';

  const methods = await send<Methods>('GET', '/auth/methods');
  if (!methods.ok) {
    byId('signin-problem').textContent = methods.error.message;
    return;
  }
  const { oidc, local } = methods.data;
  if (oidc) {
    byId('oidc').hidden = false;
    const start = byId<HTMLAnchorElement>('oidc-start');
    start.href = `/auth/oidc/start?next=${encodeURIComponent(nextPath())}`;
    start.textContent = `Sign in with ${oidc.name}`;
  }
  if (local) {
    byId('local-form').hidden = false;
    byId('signin-or').hidden = !oidc;
    byId('local-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void submit();
    });
  }
  if (!oidc && !local) byId('signin-problem').textContent = 'Sign-in is not set up on this service. Contact its operator.';
}

let busy = false;
async function submit(): Promise<void> {
  if (busy) return;
  const problems: Problem[] = [];
  if (!value('email').trim()) problems.push({ field: 'email', message: 'Enter your e-mail address.' });
  if (!value('password')) problems.push({ field: 'password', message: 'Enter your password.' });
  if (!sixDigits(value('code'))) problems.push({ field: 'code', message: 'Enter the 6-digit code your authenticator app shows now.' });
  showProblems(FIELDS, problems);
  if (problems.length) return;
  busy = true;
  const button = byId<HTMLButtonElement>('signin-button');
  button.setAttribute('aria-disabled', 'true');
  const answer = await send<{ next: string }>('POST', '/auth/local', {
    email: value('email').trim(), password: value('password'), code: value('code').replace(/\s/g, ''), next: nextPath(),
  });
  busy = false;
  button.removeAttribute('aria-disabled');
  if (answer.ok) {
    location.assign(answer.data.next);
    return;
  }
  byId<HTMLInputElement>('code').value = '';
  showProblems(FIELDS, [{ message: answer.error.message }]);
}
