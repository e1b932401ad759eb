/** What the connection check found, in words: the person's own advice, and the clinician's label beside their name. */
import type { ConnectionKind } from '../../signalling/vocabulary.js';

export const connectionAdvice: Readonly<Record<ConnectionKind, string>> = {
  direct: 'Your connection is good for video.',
  relay: "Your connection should carry video, through the practice's relay. It may be a little slower.",
  none: 'Your connection may not carry video. Try another Wi-Fi, or turn Wi-Fi off and use mobile data.',
};

export const connectionLabel: Readonly<Record<ConnectionKind, string>> = {
  direct: 'video: direct',
  relay: 'video: through relay',
  none: 'video: may not work',
};
