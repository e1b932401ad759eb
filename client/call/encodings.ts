/**
 * How the camera and microphone are sent through the SFU (issue #20: degrade, never freeze).
 *
 * Two simulcast layers, so the SFU can give each receiver the one its link carries. Chromium sends
 * no more than two for a 640x480 camera, whatever is asked (a third encoding stays off: measured),
 * so the low one is made to fit a 300 kbit/s link beside the voice (about 50 kbit/s with headers)
 * at a steady frame rate, and the top one is the full picture. The figures were measured with a
 * phone in a network namespace (test/e2e/poor-network.test.ts, `npm run bench -- --only=poor`):
 * see the README's "What a call needs".
 */
import type { types } from 'mediasoup-client';

export const videoEncodings: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 2, maxBitrate: 60_000, maxFramerate: 15 },
  { scaleResolutionDownBy: 1, maxBitrate: 900_000 },
];

export const videoCodecOptions: types.ProducerCodecOptions = { videoGoogleStartBitrate: 600 };

/**
 * Opus in-band FEC (the browser sizes it from the loss the receiver reports, which is the
 * packet-loss hint) and DTX; nothing that would trade the voice for the picture.
 */
export const audioCodecOptions: types.ProducerCodecOptions = { opusDtx: true, opusFec: true };

/**
 * A camera short of upload keeps its frame rate and loses resolution: a small steady picture
 * beats a large stuttering one. Browsers without the setting keep their own default.
 */
export async function keepFrameRate(sender: RTCRtpSender | undefined): Promise<void> {
  if (!sender) return;
  const params = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
  params.degradationPreference = 'maintain-framerate';
  await sender.setParameters(params).catch(() => undefined);
}
