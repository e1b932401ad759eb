/**
 * The camera and microphone check: ask for both, explain refusals in plain words, and drive
 * the microphone level meter so people can see they are heard.
 */

export type MediaProblem = 'denied' | 'not_found' | 'in_use' | 'insecure' | 'unsupported' | 'other';

export class MediaCheckError extends Error {
  constructor(
    readonly problem: MediaProblem,
    message: string,
  ) {
    super(message);
  }
}

// Echo cancellation matters most on a phone on speaker; 640x480 at 20 fps is plenty for a
// consultation and kind to old phones and 4G.
const video = (facingMode: 'user' | 'environment'): MediaTrackConstraints => ({
  facingMode, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20, max: 24 },
});
const constraints: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: video('user'),
};

/** Just a camera, facing the given way (switching between front and back). */
export async function openCamera(facingMode: 'user' | 'environment'): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ video: video(facingMode) });
}

/** How many cameras this device has (labels are not needed, so no extra permission). */
export async function videoInputCount(): Promise<number> {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  return devices.filter((d) => d.kind === 'videoinput').length;
}

export async function openCameraAndMic(): Promise<MediaStream> {
  if (!window.isSecureContext) {
    throw new MediaCheckError('insecure', 'This page must be opened over a secure (https) link to use your camera.');
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MediaCheckError('unsupported', 'This browser cannot use your camera. Open the link in Chrome (Android) or Safari (iPhone).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    const name = (err as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new MediaCheckError('denied', 'Your browser is blocking the camera or microphone. Allow them for this site in your browser settings, then try again.');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      throw new MediaCheckError('not_found', 'We could not find a camera or microphone on this device.');
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      throw new MediaCheckError('in_use', 'Another app is using your camera or microphone. Close it, then try again.');
    }
    throw new MediaCheckError('other', 'Your camera or microphone could not be started. Try again.');
  }
}

/** Shows the microphone's level (0-100) until the returned function is called. */
export function meterMicrophone(stream: MediaStream, onLevel: (level: number) => void): () => void {
  const track = stream.getAudioTracks()[0];
  if (!track || typeof AudioContext === 'undefined') return () => undefined;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 256;
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let frame = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
    onLevel(Math.min(100, Math.round((peak / 128) * 200)));
    frame = requestAnimationFrame(tick);
  };
  frame = requestAnimationFrame(tick);
  return () => {
    cancelAnimationFrame(frame);
    void ctx.close();
  };
}

export function stopTracks(stream: MediaStream | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
