/**
 * What the page needs from Join on and not before: socket.io-client and mediasoup-client, about
 * four fifths of its script, and the Consultation that drives the screens with them
 * (page/consultation.ts).
 * join.ts loads this module while the person looks at their camera check, so an old phone on
 * 4G shows the check sooner and has it by the time they press Join.
 */
export { Consultation } from './page/consultation.js';
export { showConnectionCheck } from './page/connection-check.js';
