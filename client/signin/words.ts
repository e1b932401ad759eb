/** What the sign-in page says when a sign-in sent it back with `?error=` (server/http/signin.ts refusalWord). */
export const refusalMessages: Readonly<Record<string, string>> = {
  not_invited: 'You do not have an account on this service yet. Ask your practice\'s admin to invite you.',
  disabled: 'Your account has been disabled. Ask your practice\'s admin.',
  suspended: 'Your practice\'s use of this service is suspended. Contact the service\'s operator.',
  unavailable: 'Signing in with your organisation\'s account is not available just now. Try again in a minute.',
  already_linked: 'That account is already linked to another person on this service. Ask your practice\'s admin.',
  link_used: 'This set-up link has already been used. Sign in, or ask your practice\'s admin for a new link.',
  link_expired: 'This set-up link has expired. Ask your practice\'s admin for a new one.',
  link_not_found: 'This set-up link is not one of ours. Ask your practice\'s admin for a new one.',
  no_verified_email: 'Your organisation\'s account did not tell us a verified e-mail address. Set up your account with a password instead, or ask your practice\'s admin.',
  refused: 'Your sign-in did not complete. Start again.',
};
