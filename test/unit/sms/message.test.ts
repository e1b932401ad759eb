import { describe, expect, it } from 'vitest';
import { newCode } from '../../../server/auth/codes.js';
import { gsm7Length, invitationText } from '../../../server/sms/message.js';

const BASE_URL = 'https://vc.example-practice.uk';

describe('invitation SMS', () => {
  it('fits one GSM-7 fragment for the longest practice name and a 30-character base URL', () => {
    expect(BASE_URL).toHaveLength(30);
    const practice = 'Riverside & Meadowbank Medical Practice!';
    expect(practice).toHaveLength(40);
    const url = `${BASE_URL}/j/${newCode()}`;
    expect(url).toHaveLength(55);
    const text = invitationText(practice, url);
    const septets = gsm7Length(text);
    expect(septets).toBeDefined();
    expect(septets).toBeLessThanOrEqual(160);
  });

  it('carries the link whole, followed by a space so phones do not swallow the next word into it', () => {
    const url = `${BASE_URL}/j/${newCode()}`;
    const text = invitationText('Riverside Surgery', url);
    expect(text).toContain(`${url} `);
    expect(text).toContain('Riverside Surgery');
  });
});

describe('gsm7Length', () => {
  it('counts basic characters as one septet and extended ones as two', () => {
    expect(gsm7Length('abc')).toBe(3);
    expect(gsm7Length('£@é')).toBe(3);
    expect(gsm7Length('{}[]€')).toBe(10);
  });

  it('returns undefined for text that needs UCS-2', () => {
    expect(gsm7Length('St Mary’s')).toBeUndefined(); // curly apostrophe
    expect(gsm7Length('😀')).toBeUndefined();
  });
});
