/**
 * The page behind a link comes in three builds (scripts/build-client.ts), chosen by the GET
 * (server/http/links.ts) from what redeeming would do now; client/join.ts reads the meta tag:
 *   fresh:   the link would redeem. The camera check starts at once, but the link is redeemed
 *            only when the person presses Join in a browser that can hold the call (never on
 *            load: in-app browsers and link scanners that run JavaScript must not use it up).
 *   held:    this browser already holds the session from this link (a reload): it resumes at
 *            once, which uses nothing up.
 *   refused: used, expired, unknown or over: the script asks the redemption why (a refusal uses
 *            nothing up) and never asks for the camera.
 *   identity: as fresh, but the patient first confirms their date of birth: the camera waits
 *            until they have. A link locked by wrong dates is served as refused.
 */
export type LinkPage = 'fresh' | 'held' | 'refused' | 'identity';

export const linkPageFiles: Record<LinkPage, string> = {
  fresh: 'join-usable.html',
  held: 'join-held.html',
  refused: 'join.html',
  identity: 'join-identity.html',
};

/** The tag a build carries (the refused one carries none: it is join.html as written). */
export const linkPageMeta = (page: LinkPage): string => `<meta name="openconsult-link" content="${page}">`;
