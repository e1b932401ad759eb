/** CPU and memory of processes from /proc (Linux): works alike for our server, the bare one and load generators. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sleep } from './stats.js';

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK is 100 on Linux x86-64). */
const TICKS = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far by a process (all its threads), or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  // Fields after the name start at 'state' (field 3): utime is field 14, stime 15.
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Child processes of `ppid` whose command name is `comm` (e.g. mediasoup-worker). */
export function childrenNamed(ppid: number, comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === ppid && name.startsWith(comm.slice(0, 15))) out.push(Number(d));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** How busy the whole machine was between two machineCpu() readings, in % of all cores. */
export function busyPercent(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  return ((b.busy - a.busy) / Math.max(1e-9, b.total - a.total)) * 100;
}

/** Sockets (fds that are sockets) a process holds open: our "open ports" figure for the soak. */
export function openSockets(pid: number): number | undefined {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the whole machine has been at most `maxBusy` % busy over one `windowMs` window,
 * or `maxMs` has passed: where a sample should start, rather than amid the start-up work of
 * browsers launched a moment before. Returns the ms waited and whether the machine got quiet.
 */
export async function quietMachine(maxBusy = 15, windowMs = 250, maxMs = 5000): Promise<{ ms: number; quiet: boolean }> {
  const t0 = performance.now();
  for (;;) {
    const a = machineCpu();
    await sleep(windowMs);
    const busy = busyPercent(a, machineCpu());
    const ms = performance.now() - t0;
    if (busy <= maxBusy) return { ms, quiet: true };
    if (ms >= maxMs) return { ms, quiet: false };
  }
}
