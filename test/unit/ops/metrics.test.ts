/** Metric helpers without a server: transports and ICE failures, SMS outcomes, /proc readings. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  countingSms, createMetrics, observeFirstFrame, procCpuSeconds, procRssBytes, watchTransport, type Metrics,
} from '../../../server/metrics.js';
import { NotifyError } from '../../../server/sms/notify.js';
import type { Sms } from '../../../server/sms/provider.js';

async function value(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const found = data.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return found?.value ?? 0;
}

function transport(protocol = 'udp') {
  return Object.assign(new EventEmitter(), { iceSelectedTuple: { protocol } as { protocol: string } | undefined });
}

function watched(m: Metrics, protocol = 'udp') {
  const t = transport(protocol);
  watchTransport({ observer: t, get iceSelectedTuple() { return t.iceSelectedTuple; } }, m);
  return t;
}

const sms: Sms = { to: '+447700900123', body: 'x', consultationId: 'c1', personalisation: { practice_name: 'P', link: 'l' } };

describe('transport metrics', () => {
  it('counts open transports and their connections by protocol', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    const a = watched(m, 'udp');
    const b = watched(m, 'tcp');
    expect(await value(m, 'openconsult_media_transports')).toBe(2);
    a.emit('icestatechange', 'connected');
    a.emit('icestatechange', 'completed');
    b.emit('icestatechange', 'completed');
    expect(await value(m, 'openconsult_media_transports_connected_total', { protocol: 'udp' })).toBe(1);
    expect(await value(m, 'openconsult_media_transports_connected_total', { protocol: 'tcp' })).toBe(1);
    a.emit('close');
    expect(await value(m, 'openconsult_media_transports')).toBe(1);
    expect(await value(m, 'openconsult_ice_failures_total', { reason: 'never_connected' })).toBe(0);
  });

  it('counts a used transport that closes without ever connecting as an ICE failure', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    const used = watched(m);
    used.emit('newproducer', {});
    used.emit('close');
    const unused = watched(m);
    unused.emit('close'); // a waiting room left before media started: not a failure
    expect(await value(m, 'openconsult_ice_failures_total', { reason: 'never_connected' })).toBe(1);
  });

  it('counts ICE lost after connecting and DTLS failures', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    const t = watched(m);
    t.emit('newconsumer', {});
    t.emit('icestatechange', 'connected');
    t.emit('icestatechange', 'disconnected');
    t.emit('dtlsstatechange', 'failed');
    t.emit('close');
    expect(await value(m, 'openconsult_ice_failures_total', { reason: 'disconnected' })).toBe(1);
    expect(await value(m, 'openconsult_ice_failures_total', { reason: 'dtls_failed' })).toBe(1);
    expect(await value(m, 'openconsult_ice_failures_total', { reason: 'never_connected' })).toBe(0);
  });
});

describe('client reports', () => {
  it('feeds the first-frame histogram in seconds and the relay share', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    observeFirstFrame(m, { ms: 850, role: 'patient', relayed: true });
    observeFirstFrame(m, { ms: 1200, role: 'clinician', relayed: false });
    observeFirstFrame(m, { ms: 400 });
    const text = await m.registry.metrics();
    expect(text).toMatch(/^openconsult_first_frame_seconds_bucket\{le="1",role="patient"\} 1$/m);
    expect(text).toMatch(/^openconsult_first_frame_seconds_sum\{role="patient"\} 0\.85$/m);
    expect(text).toMatch(/^openconsult_first_frame_seconds_count\{role="unknown"\} 1$/m);
    expect(await value(m, 'openconsult_media_paths_total', { path: 'relay' })).toBe(1);
    expect(await value(m, 'openconsult_media_paths_total', { path: 'direct' })).toBe(1);
  });
});

describe('SMS outcomes', () => {
  it('counts sent, failed and unknown messages and passes errors on', async () => {
    const m = createMetrics({ mediaSessions: () => 0 });
    let next: Error | undefined;
    const provider = countingSms({
      name: 'notify',
      async send() {
        if (next) throw next;
      },
    }, m);
    await provider.send(sms);
    next = new Error('refused');
    await expect(provider.send(sms)).rejects.toThrow('refused');
    next = new NotifyError('unknown_outcome', undefined, 'ECONNRESET', 'The connection broke after sending.');
    await expect(provider.send(sms)).rejects.toBe(next);
    expect(provider.name).toBe('notify');
    expect(await value(m, 'openconsult_sms_total', { result: 'sent' })).toBe(1);
    expect(await value(m, 'openconsult_sms_total', { result: 'failed' })).toBe(1);
    expect(await value(m, 'openconsult_sms_total', { result: 'unknown' })).toBe(1);
  });
});

describe('worker process readings', () => {
  it('reads CPU time and resident memory of a live process from /proc', async () => {
    const start = procCpuSeconds(process.pid) ?? -1;
    const until = Date.now() + 60;
    while (Date.now() < until) Math.sqrt(Math.random());
    expect(start).toBeGreaterThanOrEqual(0);
    expect(procCpuSeconds(process.pid)).toBeGreaterThanOrEqual(start);
    expect(procRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
    expect(procCpuSeconds(2 ** 22 + 12345)).toBeUndefined();
  });

  it('exports them per worker pid, and drops a worker that is gone', async () => {
    let pids = [process.pid];
    const m = createMetrics({ mediaSessions: () => 0, workerPids: () => pids });
    const text = await m.registry.metrics();
    expect(text).toMatch(new RegExp(`^openconsult_media_worker_cpu_seconds_total\\{pid="${process.pid}"\\} \\d`, 'm'));
    expect(text).toMatch(new RegExp(`^openconsult_media_worker_resident_memory_bytes\\{pid="${process.pid}"\\} [1-9]\\d*$`, 'm'));
    expect(text).toMatch(/^openconsult_media_workers 1$/m);
    pids = [];
    const after = await m.registry.metrics();
    expect(after).not.toContain(`pid="${process.pid}"`);
    expect(after).toMatch(/^openconsult_media_workers 0$/m);
  });
});
