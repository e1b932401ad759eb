/**
 * Plain-words help for the two commonest failures of video visits: a link opened inside an SMS
 * or social app's own browser (where the camera is often not allowed), and a camera or
 * microphone permission that was refused. Detection is by user agent: imperfect, so the page
 * advises and keeps the camera check; but it never redeems a link there (`joinBlock`), since a
 * used link cannot follow the person into the browser the page tells them to open.
 */

export type Platform = 'ios' | 'android' | 'desktop';

export function platformOf(ua: string): Platform {
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && /Mobile/.test(ua))) return 'ios';
  if (/Android/.test(ua)) return 'android';
  return 'desktop';
}

/** The in-app browser's name when the page runs inside one, else undefined. */
export function inAppBrowser(ua: string): string | undefined {
  const apps: [RegExp, string][] = [
    [/FBAN|FBAV|FB_IAB/, 'Facebook'],
    [/Instagram/, 'Instagram'],
    [/WhatsApp/, 'WhatsApp'],
    [/\bLine\//, 'LINE'],
    [/MicroMessenger/, 'WeChat'],
    [/Snapchat/, 'Snapchat'],
    [/Twitter|TwitterAndroid/, 'X (Twitter)'],
    [/LinkedInApp/, 'LinkedIn'],
    [/GSA\//, 'the Google app'],
  ];
  for (const [re, name] of apps) if (re.test(ua)) return name;
  // Android WebViews mark themselves "; wv)"; iOS WebViews lack "Safari/" (and are not Chrome/Firefox/Edge for iOS).
  if (/Android/.test(ua) && /; wv\)/.test(ua)) return 'an app';
  if (platformOf(ua) === 'ios' && !/Safari\//.test(ua) && !/CriOS|FxiOS|EdgiOS/.test(ua)) return 'an app';
  return undefined;
}

/** Why this browser must not redeem a link: it cannot hold the call, or the person is told to go elsewhere. */
export type JoinBlock = { kind: 'in-app'; app: string } | { kind: 'no-webrtc' };

export function joinBlock(ua: string, hasWebRtc: boolean): JoinBlock | undefined {
  if (!hasWebRtc) return { kind: 'no-webrtc' };
  const app = inAppBrowser(ua);
  return app ? { kind: 'in-app', app } : undefined;
}

export const noWebRtcHelp = {
  message: 'This browser cannot make video calls.',
  action: 'Open the link from your text message in Chrome, Safari, Edge or Firefox. Your link has not been used: it will work there.',
};

/** The page never redeems a link in an app's browser, so the person can trust it still works. */
const linkStillWorks = ' Your link has not been used: it will work there.';

export function openInBrowserHelp(ua: string, app: string): string {
  return openInBrowserSteps(ua, app) + linkStillWorks;
}

function openInBrowserSteps(ua: string, app: string): string {
  switch (platformOf(ua)) {
    case 'ios':
      return `This page is open inside ${app}, which may not let it use your camera. Tap the menu (… or the share button) and choose “Open in Safari”, or copy the link from your text message into Safari.`;
    case 'android':
      return `This page is open inside ${app}, which may not let it use your camera. Tap the menu (⋮) and choose “Open in Chrome”, or copy the link from your text message into Chrome.`;
    case 'desktop':
      return `This page is open inside ${app}. Open the link in Chrome, Edge, Firefox or Safari instead.`;
  }
}

/** How to allow camera and microphone again after saying no, for this browser. */
export function permissionHelp(ua: string): string[] {
  if (platformOf(ua) === 'ios') {
    return [
      'In Safari, tap “aA” (or the page menu) in the address bar, then “Website Settings”.',
      'Set Camera and Microphone to “Allow”, then tap “Try camera and microphone again” below.',
      'If that does not help: open the Settings app, tap Safari, then Camera and Microphone, and choose “Allow”.',
    ];
  }
  if (platformOf(ua) === 'android') {
    return [
      'In Chrome, tap the icon to the left of the web address (a padlock or settings icon), then “Permissions”.',
      'Turn on Camera and Microphone, then tap “Try camera and microphone again” below.',
      'If Chrome itself is not allowed to use the camera: open your phone’s Settings, then Apps, Chrome, Permissions.',
    ];
  }
  if (/Firefox\//.test(ua)) {
    return ['Click the crossed-out camera icon in the address bar and remove the block, then try again below.'];
  }
  return ['Click the camera icon (or the padlock) at the end of the address bar, choose “Always allow”, then try again below.'];
}
