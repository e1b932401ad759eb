/**
 * The account set-up page (/setup/:code). Loading it uses nothing up; the page asks what the
 * link is for, then sets up a local account (password, authenticator app) or starts the
 * organisation's sign-in, which links the account. Used, expired or unknown links are explained.
 */
import { byId } from '../console/dom.js';
import { send, showProblems, sixDigits, value, type Problem } from '../signin/form.js';

interface SetupInfo {
  displayName: string;
  needsIdentity: boolean;
  local: { secret: string; uri: string; qrSvg: string } | null;
  oidc: { name: string; start: string } | null;
}

const code = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const api = `/api/v1/setup/${encodeURIComponent(code)}`;

export async function startSetup(): Promise<void> {
  const status = byId('setup-status');
  const info = await send<SetupInfo>('GET', api);
  status.textContent = '';
  if (!info.ok) {
    byId('setup-title').textContent = info.error.status === 410 || info.error.status === 404 ? 'This link cannot be used' : 'Set up your account';
    byId('setup-problem').textContent = info.error.message;
    return;
  }
  const { displayName, needsIdentity, local, oidc } = info.data;
  byId('setup-ready').hidden = false;
  byId('setup-intro').textContent = needsIdentity
    ? 'You are the first admin of your practice on this service. Set up your account, then invite your colleagues.'
    : `Welcome, ${displayName}. Set up how you will sign in.`;
  if (oidc) {
    byId('oidc').hidden = false;
    const start = byId<HTMLAnchorElement>('oidc-start');
    start.href = oidc.start;
    start.textContent = `Set up with ${oidc.name}`;
  }
  if (!local) return;
  const fields = needsIdentity ? ['display-name', 'email', 'password', 'code'] : ['password', 'code'];
  byId('local-form').hidden = false;
  byId('setup-or').hidden = !oidc;
  byId('identity').hidden = !needsIdentity;
  byId<HTMLImageElement>('totp-qr').src = `data:image/svg+xml;base64,${btoa(local.qrSvg)}`;
  byId('totp-secret').textContent = local.secret.replace(/(.{4})/g, '$1 ').trim();
  byId('local-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void submit(fields, local.secret, needsIdentity);
  });
}

let busy = false;
async function submit(fields: string[], secret: string, needsIdentity: boolean): Promise<void> {
  if (busy) return;
  const problems: Problem[] = [];
  if (needsIdentity && !value('display-name').trim()) problems.push({ field: 'display-name', message: 'Enter your name.' });
  if (needsIdentity && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value('email').trim())) problems.push({ field: 'email', message: 'Enter your e-mail address, like name@nhs.net.' });
  if (value('password').length < 12) problems.push({ field: 'password', message: 'Choose a password of at least 12 characters.' });
  if (!sixDigits(value('code'))) problems.push({ field: 'code', message: 'Enter the 6-digit code your authenticator app shows now.' });
  showProblems(fields, problems);
  if (problems.length) return;
  busy = true;
  const answer = await send<{ next: string }>('POST', api, {
    password: value('password'), totpSecret: secret, code: value('code').replace(/\s/g, ''),
    ...(needsIdentity ? { displayName: value('display-name').trim(), email: value('email').trim() } : {}),
  });
  busy = false;
  if (answer.ok) {
    location.assign(answer.data.next);
    return;
  }
  showProblems(fields, [{ message: answer.error.message }]);
}
