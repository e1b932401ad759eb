/**
 * The first picture of a resumed video consumer, when the sender's top simulcast layer is off.
 *
 * A resumed simulcast consumer aims at the highest layer that carried any bits in mediasoup's
 * last 2.5 s, even one that the sender's browser has since switched off for want of bandwidth
 * (Chromium does that to its top layer in its first second of sending when its estimate dips).
 * The consumer's key frame request then goes to a stream that sends nothing, the key frames the
 * browser makes on the layer it does send are dropped, and mediasoup asks again only after a
 * second (Chromium also ignores a request within 300 ms of the one before): the first picture
 * came 1-2.2 s after Admit, about one time in 20 here, on the bare mediasoup stack as well.
 *
 * So a consumer that has sent no picture FIRST_PICTURE_GRACE_MS after it was resumed prefers
 * the lowest layer, which is always sent, until a picture has gone out; then it gets its own
 * preference back and mediasoup moves up as usual. Normally a picture goes out 10-70 ms after
 * the resume, and the timer is cleared.
 */
import type { Consumer, ConsumerLayers } from 'mediasoup/node/lib/types.js';

export const FIRST_PICTURE_GRACE_MS = 350;

const watching = new WeakSet<Consumer>();
/** Consumers lowered to the lowest layer, until their first picture has gone out. */
const lowered = new WeakSet<Consumer>();

/**
 * Whether a consumer is lowered for its first picture: the weak-link guard (layer-guard.ts), which
 * sets preferred layers too, holds it there rather than undo the fall-back at its next look.
 */
export const fallingBack = (consumer: Consumer): boolean => lowered.has(consumer);

/** Watches a consumer just resumed; `onFallback` is called when it had to fall back. */
export function watchFirstPicture(consumer: Consumer, onFallback: () => void): void {
  if (consumer.kind !== 'video' || consumer.type !== 'simulcast' || consumer.currentLayers || watching.has(consumer)) return;
  watching.add(consumer);
  // Taken once per watch, so that a second resume cannot take the lowered layer for the preference.
  const preferred = consumer.preferredLayers;
  const stop = () => {
    clearTimeout(timer);
    lowered.delete(consumer);
    consumer.off('layerschange', onLayers);
    watching.delete(consumer);
  };
  const timer = setTimeout(() => {
    // Paused on either side: no picture is expected, whatever the layers.
    if (consumer.closed || consumer.paused || consumer.producerPaused || consumer.currentLayers) {
      stop();
      return;
    }
    lowered.add(consumer);
    onFallback();
    consumer.setPreferredLayers({ spatialLayer: 0 }).catch(() => undefined);
  }, FIRST_PICTURE_GRACE_MS);
  const onLayers = (layers?: ConsumerLayers) => {
    if (!layers) return;
    const wasLowered = lowered.has(consumer);
    stop();
    if (wasLowered && preferred && !consumer.closed) consumer.setPreferredLayers(preferred).catch(() => undefined);
  };
  consumer.on('layerschange', onLayers);
  consumer.observer.once('close', stop);
}
