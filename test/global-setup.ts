/** Builds the browser assets once before any test file runs, so pages under test are current. */
import { buildClient } from '../scripts/build-client.js';

export default async function setup(): Promise<void> {
  await buildClient();
}
