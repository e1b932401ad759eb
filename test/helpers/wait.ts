/**
 * `page.waitForFunction` that also works where the page's Content-Security-Policy forbids eval in
 * the browser's automation: puppeteer builds the predicate with `new Function` inside the page,
 * which Firefox releases before WebDriver BiDi's CSP bypass (ESR 140, for one) refuse on our
 * pages. There the predicate is evaluated from outside instead, again after each change to the
 * page's DOM (at least every 100 ms), until it holds or `timeout` passes.
 */
import { type JSHandle, type Page, TimeoutError } from 'puppeteer-core';

type Predicate<Args extends unknown[]> = (...args: Args) => unknown;

export async function waitUntil<Args extends unknown[]>(
  page: Page, fn: Predicate<Args>, opts: { timeout: number; polling?: number }, ...args: Args
): Promise<JSHandle> {
  const { timeout } = opts;
  try {
    return await page.waitForFunction(fn as (...a: unknown[]) => unknown, opts, ...args);
  } catch (err) {
    if (!blockedByCsp(err)) throw err;
  }
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    // Fails while the page navigates (or before its script has run): keep the cause for the
    // timeout message and try again, as waitForFunction would.
    const handle = await page.evaluateHandle(fn as (...a: unknown[]) => unknown, ...args).catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
    if (handle && await handle.evaluate((v) => Boolean(v))) return handle;
    await handle?.dispose();
    if (Date.now() > deadline) {
      throw new TimeoutError(`Waiting failed: ${timeout}ms exceeded${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await page.evaluate(nextDomChange).catch(() => undefined);
  }
}

/** Resolves on the page's next DOM change, or after 100 ms (stats and media change no DOM). */
function nextDomChange(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { observer.disconnect(); clearTimeout(timer); resolve(); };
    const observer = new MutationObserver(done);
    observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    const timer = setTimeout(done, 100);
  });
}

function blockedByCsp(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (/blocked by CSP/i.test(e.message)) return true;
  }
  return false;
}
