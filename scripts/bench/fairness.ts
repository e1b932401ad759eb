/**
 * The bare baseline copies the product's media choices (codecs, encodings, camera constraints,
 * transport options) so that ours/bare measures product logic, not different media. The product
 * may change them: this checks the copies still match and says what differs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { mediaCodecs } from '../../server/media/pool.js';
import { bareMediaCodecs } from './bare/server.js';
import { benchDir } from './lib/host.js';

const root = path.resolve(benchDir, '..', '..');

/** Text the product's sources must still contain for the copy in bare/ to be the same. */
const expected: [file: string, snippet: string, what: string][] = [
  ['client/call/encodings.ts', '{ scaleResolutionDownBy: 2, maxBitrate: 60_000, maxFramerate: 15 },\n  { scaleResolutionDownBy: 1, maxBitrate: 900_000 },', 'simulcast encodings'],
  ['client/call/encodings.ts', 'audioCodecOptions: types.ProducerCodecOptions = { opusDtx: true, opusFec: true }', 'Opus options'],
  ['client/call/encodings.ts', 'videoCodecOptions: types.ProducerCodecOptions = { videoGoogleStartBitrate: 600 }', 'video start bitrate'],
  ['client/call/encodings.ts', "params.degradationPreference = 'maintain-framerate'", 'degradation preference'],
  ['client/local-media.ts', 'width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20, max: 24 }', 'camera constraints'],
  ['client/local-media.ts', 'audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }', 'microphone constraints'],
  ['server/media/session.ts', 'initialAvailableOutgoingBitrate: 800_000', 'transport start bitrate'],
  ['server/media/session.ts', 'enableUdp: true,\n      enableTcp: true,\n      preferUdp: true,', 'transport protocols'],
  ['server/media/session.ts', 'paused: true', 'consumers start paused'],
];

export async function checkFairness(): Promise<string[]> {
  const problems: string[] = [];
  if (JSON.stringify(mediaCodecs) !== JSON.stringify(bareMediaCodecs)) problems.push('router codecs differ from server/media/pool.ts');
  for (const [file, snippet, what] of expected) {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => '');
    if (!text.includes(snippet)) problems.push(`${what}: ${file} no longer says \`${snippet.replace(/\n\s*/g, ' ')}\``);
  }
  return problems;
}
