// The console in a real browser (Debian's Chromium driven by playwright-core) against the real system (vector
// store and gateway processes, Postgres, Redis): sign in, create a project, mint a key and read its value once,
// create an index, query it in the playground, rotate and revoke keys and watch the data plane refuse them,
// find every action in the audit log, see usage move. Every screen is screenshotted after checking that the
// page (text, attributes, form values, storage) holds no secret beyond its one-time view, and checked with axe.
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import AxeBuilder from '@axe-core/playwright';
import { startSystem, type System } from '@conifer/test-utils';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../../.reports/console-screenshots');
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('operator console in Chromium', () => {
  let system: System;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let projectId: string;
  /** Every secret the run has seen: none may appear on a page after its one-time view. */
  const secrets = new Set<string>();
  const responses: { url: string; headers: Record<string, string> }[] = [];
  const consoleErrors: string[] = [];

  const url = (p: string) => `${system.gatewayUrl}${p}`;

  async function assertNoSecrets(where: string): Promise<void> {
    const content = await page.evaluate(() => {
      const values = [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value);
      const local = Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`);
      const session = Object.keys(sessionStorage)
        .filter((k) => k !== 'conifer.console.session')
        .map((k) => `${k}=${sessionStorage.getItem(k)}`);
      return { html: document.documentElement.outerHTML, text: document.body.innerText, values, local, session, cookie: document.cookie };
    });
    expect(content.local).toEqual([]);
    expect(content.cookie).toBe('');
    const haystack = [content.html, content.text, ...content.values, ...content.session].join('\n');
    for (const secret of secrets) {
      if (haystack.includes(secret)) throw new Error(`${where}: a secret is on the page (…${secret.slice(-4)})`);
    }
  }

  async function checkAccessibility(where: string): Promise<void> {
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect([where, serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`)]).toEqual([where, []]);
  }

  async function screen(name: string): Promise<void> {
    await assertNoSecrets(name);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    await checkAccessibility(name);
  }

  async function dataPlane(apiKey: string, indexPath: string, body: unknown): Promise<number> {
    const response = await fetch(url(`/data/${projectId}/movies${indexPath}`), {
      method: 'POST',
      headers: { 'api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function refusedWithin(apiKey: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    let status = 0;
    while (Date.now() < deadline) {
      status = await dataPlane(apiKey, '/query', { vector: [0.1, 0.2, 0.3], topK: 1 });
      if (status === 401) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`key still accepted (${status}) after ${ms} ms`);
  }

  /** Reads the one-time secret box, remembers the secret, dismisses it and checks it is gone. */
  async function takeSecret(): Promise<string> {
    const box = page.getByTestId('secret-value');
    await box.waitFor();
    const value = (await box.textContent())!.trim();
    await expect(page.getByText('you will not see this again')).toBeTruthy();
    secrets.add(value);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await box.waitFor({ state: 'detached' });
    return value;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    system = await startSystem({ env: { CONIFER_LAST_USED_FLUSH_MS: '300' } });
    secrets.add(system.clientSecret);
    userDataDir = mkdtempSync(path.join(tmpdir(), 'conifer-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('response', (response) => responses.push({ url: response.url(), headers: response.headers() }));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await system?.stop();
  });

  it('is served at /console with a strict CSP, hashed long-cache assets and an uncached index.html', async () => {
    await page.goto(url('/console'));
    await page.getByRole('heading', { name: 'Conifer console' }).waitFor();
    const index = responses.find((r) => r.url === url('/console'))!;
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(index.headers['cache-control']).toBe('no-cache');
    const assets = responses.filter((r) => /\/console\/assets\/index-[\w-]+\.(js|css)$/.test(r.url));
    expect(assets.length).toBe(2);
    for (const asset of assets) expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await screen('01-sign-in');
  });

  it('signs in with service-account credentials and keeps the token out of localStorage and cookies', async () => {
    await page.getByLabel('Client ID').fill(system.clientId);
    await page.getByLabel('Client secret').fill('wrong-secret-wrong-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Client secret').fill(system.clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('conifer.console.session')!).token as string);
    secrets.add(token);
    await screen('02-projects');
  });

  it('creates a project, mints a key whose value is shown once, and creates an index', async () => {
    await page.getByLabel('New project name').fill('browser');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('link', { name: 'browser' }).click();
    await page.getByRole('heading', { name: 'API keys of browser' }).waitFor();
    projectId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);

    await page.getByText('Mint a key').click();
    await page.getByLabel('Key name').fill('app');
    await page.getByLabel('ProjectEditor').check();
    await page.getByRole('button', { name: 'Mint key' }).click();
    const value = await takeSecret();
    expect(value).toMatch(/^pcsk_/);
    await page.locator('tr', { hasText: 'app' }).getByText('active').waitFor();
    await screen('03-keys');

    await page.getByRole('link', { name: 'Indexes' }).click();
    await page.getByText('Create an index').click();
    await page.getByLabel('Index name').fill('movies');
    await page.getByLabel('Dimension (dense)').fill('3');
    await page.getByRole('button', { name: 'Create index' }).click();
    await page.getByRole('heading', { name: 'movies', level: 2 }).waitFor();
    // A client writes with the key the console showed once.
    const upsert = {
      vectors: [
        { id: 'a', values: [0.1, 0.2, 0.3], metadata: { genre: 'drama' } },
        { id: 'b', values: [0.3, 0.2, 0.1], metadata: { genre: 'comedy' } },
        { id: 'c', values: [0.1, 0.2, 0.31], metadata: { genre: 'drama' } },
      ],
    };
    expect(await dataPlane(value, '/vectors/upsert', upsert)).toBe(200);
    expect(await dataPlane(value, '/vectors/upsert', { ...upsert, namespace: 'fr' })).toBe(200);
    await page.getByRole('button', { name: 'Describe movies' }).click();
    await page.getByRole('cell', { name: 'fr' }).waitFor();
    await page.getByLabel('Tags (JSON object)').fill('{"team":"search"}');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByText('Index movies configured.').waitFor();
    await screen('04-indexes');
    (globalThis as { consoleKey?: string }).consoleKey = value;
  });

  it('runs playground queries by vector and by id, with a validated filter', async () => {
    await page.getByRole('link', { name: 'Query playground' }).click();
    await page.locator('#playground-index').selectOption('movies');
    await page.getByLabel('Vector (JSON array)').fill('[0.1, 0.2, 0.3]');
    await page.getByLabel('Metadata filter (JSON, optional)').fill('{"genre": {"$regex": "dr"}}');
    await page.getByText('unknown operator $regex').waitFor();
    await page.getByLabel('Metadata filter (JSON, optional)').fill('{"genre": {"$eq": "drama"}}');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByRole('table', { name: 'Results' }).waitFor();
    expect(await page.getByTestId('match-id').allTextContents()).toEqual(['a', 'c']);
    await screen('05-playground');
    await page.getByLabel('the id of a stored vector').check();
    await page.getByLabel('Vector id').fill('b');
    await page.getByLabel('Metadata filter (JSON, optional)').fill('');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByText('3 matches').waitFor();
    expect((await page.getByTestId('match-id').allTextContents())[0]).toBe('b');
  });

  it('shows usage moving, rotates and revokes keys, and the data plane refuses them', async () => {
    const value = (globalThis as { consoleKey?: string }).consoleKey!;
    for (let i = 0; i < 3; i++) expect(await dataPlane(value, '/query', { vector: [0.1, 0.2, 0.3], topK: 1 })).toBe(200);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Usage of app' }).click();
    // Counts are flushed every 300 ms here: refresh until the key's chart shows its requests.
    const keyTotal = page.getByRole('figure', { name: 'Usage of "app", last 24 hours' }).getByTestId('usage-total');
    for (let i = 0; i < 50; i++) {
      if ((await keyTotal.count()) > 0 && (await keyTotal.textContent())?.startsWith('3 reads · 2 writes')) break;
      await new Promise((r) => setTimeout(r, 200));
      await page.getByRole('button', { name: 'Refresh' }).click();
    }
    expect(await keyTotal.textContent()).toBe('3 reads · 2 writes · 0 errors');
    await screen('06-usage');

    await page.getByRole('button', { name: 'Rotate app' }).click();
    await page.getByLabel(/Grace period in minutes/).fill('0');
    await page.getByRole('button', { name: 'Rotate key' }).click();
    const successor = await takeSecret();
    expect(successor).not.toBe(value);
    await refusedWithin(value, 2_000);
    expect(await dataPlane(successor, '/query', { vector: [0.1, 0.2, 0.3], topK: 1 })).toBe(200);

    const row = page.locator('tr', { hasText: 'app' }).filter({ hasText: 'active' });
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('revoked: it no longer works').waitFor();
    await refusedWithin(successor, 2_000);
    await page.getByLabel('Show revoked keys').check();
    await page.locator('tr', { hasText: 'revoked' }).first().waitFor();
    await screen('07-keys-revoked');
  });

  it('creates a service account whose secret is shown once', async () => {
    await page.getByRole('link', { name: 'Service accounts' }).click();
    await page.getByLabel('New service account name').fill('ci');
    await page.getByRole('button', { name: 'Create service account' }).click();
    const secret = await takeSecret();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await screen('08-service-accounts');
  });

  it('shows each action in the audit log, with filters and paging', async () => {
    // More project.create events than one page of 10 holds, so the filtered results take two pages.
    for (let i = 0; i < 10; i++) expect((await system.admin('POST', '/admin/projects', { name: `extra-${i}` })).status).toBe(201);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByTestId('audit-action').first().waitFor();
    const actions = await page.getByTestId('audit-action').allTextContents();
    for (const action of ['project.create', 'api_key.create', 'api_key.rotate', 'api_key.revoke', 'service_account.create']) {
      expect(actions).toContain(action);
    }
    await page.getByLabel('Per page').selectOption('10');
    await page.getByText(/^Page 1: 10 events/).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(/^Page 2:/).waitFor();

    // An exact action, filtered by the API: every page holds only matching events, and paging through them finds
    // every project the API knows was created (the filter is not applied to one loaded page).
    const created = await system.admin<{ data: { target_id: string }[] }>('GET', '/admin/audit-events?action=project.create&limit=100');
    expect(created.status).toBe(200);
    expect(created.body.data.length).toBeGreaterThan(10);
    const filteredRequests: string[] = [];
    const onRequest = (request: { url: () => string }) => {
      if (request.url().includes('/admin/audit-events')) filteredRequests.push(request.url());
    };
    page.on('request', onRequest);
    await page.getByLabel('Action', { exact: true }).fill('project.create');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(/^Page 1: 10 matching events$/).waitFor();
    const seen: string[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      await page.getByText(new RegExp(`^Page ${pageNumber}: \\d+ matching events?$`)).waitFor();
      expect(new Set(await page.getByTestId('audit-action').allTextContents())).toEqual(new Set(['project.create']));
      seen.push(...(await page.getByTestId('audit-target-id').allTextContents()));
      if (await page.getByRole('button', { name: 'Next page' }).isDisabled()) break;
      await page.getByRole('button', { name: 'Next page' }).click();
    }
    page.off('request', onRequest);
    expect(seen).toEqual(created.body.data.map((e) => e.target_id));
    expect(filteredRequests.length).toBeGreaterThanOrEqual(2);
    for (const request of filteredRequests) expect(new URL(request).searchParams.get('action')).toBe('project.create');
    await screen('09-audit');

    // A time range after every event: nothing matches. Clearing the filters brings everything back.
    await page.getByLabel('From').fill('2099-01-01T00:00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(/^Page 1: 0 matching events$/).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText(/^Page 1: 10 events$/).waitFor();
  });

  it('is usable from the keyboard', async () => {
    await page.getByRole('link', { name: 'Projects' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.getByLabel('New project name').focus();
    await page.keyboard.type('keyboard');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'keyboard' }).waitFor();
    await page.getByRole('button', { name: 'Delete project keyboard' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
  });

  it('sends an expired session back to sign-in, and revokes its session keys on sign-out', async () => {
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('conifer.console.session')!);
      sessionStorage.setItem('conifer.console.session', JSON.stringify({ ...session, token: 'expired.token.value' }));
    });
    await page.reload();
    await page.getByText('Your session has expired. Sign in again.').waitFor();
    await page.getByLabel('Client ID').fill(system.clientId);
    await page.getByLabel('Client secret').fill(system.clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.goto(url(`/console/#/projects/${projectId}/indexes`));
    await page.getByRole('cell', { name: 'movies', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    const keys = await system.admin<{ data: { name: string; status: string }[] }>('GET', `/admin/projects/${projectId}/api-keys?include_revoked=true`);
    const sessionKeys = keys.body.data.filter((k) => k.name === 'console session');
    expect(sessionKeys.length).toBeGreaterThan(0);
    expect(sessionKeys.every((k) => k.status === 'revoked')).toBe(true);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    await screen('10-signed-out');
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });
});
