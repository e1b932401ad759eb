/** The person's own camera and microphone, and their choices about them, kept across reconnections. */
import { openCamera, openCameraAndMic, stopTracks } from '../local-media.js';
import { el } from './dom.js';

export class LocalMedia {
  stream: MediaStream | undefined;
  micOn = true;
  cameraOn = true;
  private facing: 'user' | 'environment' = 'user';

  /** Starts (or restarts) camera and microphone; `started` is a request already made. */
  async open(started?: Promise<MediaStream>): Promise<MediaStream> {
    stopTracks(this.stream);
    this.stream = undefined;
    this.stream = await (started ?? openCameraAndMic());
    return this.stream;
  }

  /**
   * Front or back camera: a new track replaces the old one everywhere it is shown, and is handed
   * to `send` (the call's video sender, once there is a call). Rejects if the camera cannot start.
   */
  async switchCamera(send: (track: MediaStreamTrack) => Promise<void>): Promise<void> {
    const next = this.facing === 'user' ? 'environment' : 'user';
    const fresh = await openCamera(next);
    const track = fresh.getVideoTracks()[0];
    if (!track || !this.stream) return;
    for (const old of this.stream.getVideoTracks()) {
      this.stream.removeTrack(old);
      old.stop();
    }
    track.enabled = this.cameraOn;
    this.stream.addTrack(track);
    await send(track);
    this.facing = next;
    for (const id of ['check-video', 'self-video'] as const) el(id).srcObject = this.stream;
  }

  setCameraOn(on: boolean): void {
    this.cameraOn = on;
    for (const t of this.stream?.getVideoTracks() ?? []) t.enabled = on;
  }

  stop(): void {
    stopTracks(this.stream);
    this.stream = undefined;
  }
}
