/**
 * The page behind a link comes in two builds (scripts/build-client.ts): join.html, whose script
 * redeems the link before it asks for the camera, so that a used or expired link never asks; and
 * this one, served when the GET found the link would redeem now, whose script asks for the camera
 * while it redeems (client/join.ts reads the meta tag).
 */
export const USABLE_LINK_PAGE = 'join-usable.html';
export const USABLE_LINK_META = '<meta name="openconsult-link" content="usable">';
