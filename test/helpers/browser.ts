import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from './tools';

/**
 * Debian's Chromium, headless, driven by playwright-core. `--no-sandbox`: the tests run as root,
 * where Chromium's sandbox refuses to start; the rest keeps it from calling home.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
