/**
 * The clinician's console (/console): today's consultations with live status, a form to create
 * one, re-send and end, and an alert when a patient starts waiting. The parts are in console/.
 */
import { ConsoleApp } from './console/app.js';

declare global {
  interface Window {
    /** Diagnostics for support staff and automated checks: chimes played so far. */
    openconsultConsole: { tones: () => number };
  }
}

const app = new ConsoleApp();
window.openconsultConsole = app.diagnostics;
app.start();
