// The dashboard as a person uses it, in headless Chromium (run by tests/dashboard.rs through
// pixelway_testkit::run_browser, which provides page, visit, check, shot, BASE).
// Env: B_URL (the second web origin), CUPS and HILLS (files to upload), PORT (the server's).

const text = async (selector) => (await page.textContent(selector)) || '';
const waitText = (selector, needle) => page.waitForFunction(
  ([s, n]) => (document.querySelector(s)?.textContent || '').includes(n), [selector, needle]);

// ---- Signed out: every page leads to sign-in ----------------------------------------------
await visit('/');
check((await text('main')).includes('Open the dashboard'), '/ links to the dashboard');
await shot('home');
await visit('/dashboard/endpoints');
check(page.url().includes('/dashboard/sign-in'), 'a protected page sends a signed-out visitor to sign in');
await shot('sign-in');
await page.fill('input[name=account]', 'acme');
await page.fill('input[name=key]', 'not-the-key');
await page.click('button[type=submit]');
check((await text('#sign-in-error')).includes('do not match'), 'a wrong key is refused with a message');
await page.fill('input[name=key]', 'private_acme');
await Promise.all([page.waitForURL('**/dashboard/endpoints'), page.click('button[type=submit]')]);
check(!(await page.evaluate(() => document.cookie)).includes('pixelway_session'),
  'the session cookie cannot be read by script');
await visit('/dashboard');
await shot('overview');

// ---- Origins: a bad bucket is refused next to its field; a web folder is added -----------
await visit('/dashboard/origins/new');
await page.selectOption('select[name=type]', 'S3');
await page.fill('input[name=name]', 'bad-bucket');
await page.fill('input[name=bucket]', 'Not A Bucket!');
await page.fill('input[name=accessKey]', 'AKIDEXAMPLE');
await page.fill('input[name=secretKey]', 'not-a-real-secret');
await page.click('#origin-form button[type=submit]');
await waitText('[data-error-for=bucket]', 'not a bucket name');
await shot('origin-error');
await page.selectOption('select[name=type]', 'WEB_FOLDER');
await page.fill('input[name=name]', 'second');
await page.fill('input[name=baseUrl]', process.env.B_URL);
await Promise.all([page.waitForURL('**/dashboard/origins'), page.click('#origin-form button[type=submit]')]);
check(await page.locator('[data-origin="bad-bucket"]').count() === 0, 'the refused origin was not created');
const second = page.locator('[data-origin="second"]');
await second.locator('input[name=path]').fill('shoes/red.jpg');
await second.locator('button', { hasText: 'Test' }).click();
await waitText('[data-origin="second"] output', 'found');
check((await second.locator('output').textContent()).includes('ms'), 'the test shows a latency');
await second.locator('input[name=path]').fill('no-such-file.jpg');
await second.locator('button', { hasText: 'Test' }).click();
await waitText('[data-origin="second"] output', 'ENOENT');
await shot('origins');
await second.locator('a', { hasText: 'Edit' }).click();
await page.waitForSelector('input[name=baseUrl]');
check(await page.inputValue('input[name=baseUrl]') === process.env.B_URL, 'the editor shows the origin');
await shot('origin-edit');
// Timeout and retries are the origin's own settings, saved and shown again.
await page.fill('input[name=timeout]', '3s');
await page.fill('input[name=retries]', '2');
await Promise.all([page.waitForURL('**/dashboard/origins'), page.click('#origin-form button[type=submit]')]);
await page.locator('[data-origin="second"] a', { hasText: 'Edit' }).click();
await page.waitForSelector('input[name=baseUrl]');
check(await page.inputValue('input[name=timeout]') === '3s', 'the timeout was saved');
check(await page.inputValue('input[name=retries]') === '2', 'the retries were saved');
await page.fill('input[name=timeout]', 'forever');
await page.click('#origin-form button[type=submit]');
await waitText('[data-error-for=timeout]', 'timeout');

// ---- URL Endpoints: wrong identifiers are named as you type; then an endpoint is added ------
await visit('/dashboard/endpoints');
await Promise.all([page.waitForURL('**/dashboard/endpoints/new'), page.click('text=Add New')]);
const identifierError = '[data-error-for=urlPrefix]';
await page.fill('input[name=urlPrefix]', 'bad id!');
check((await text(identifierError)).includes('letters, digits and hyphens'), 'bad characters are named');
await page.fill('input[name=urlPrefix]', 'legacy');
check((await text(identifierError)).includes('already uses'), 'a taken identifier is named');
await page.fill('input[name=urlPrefix]', 'default');
check((await text(identifierError)).includes('reserved'), 'a reserved identifier is named');
await page.fill('input[name=urlPrefix]', '');
await page.click('#endpoint-form button[type=submit]');
check((await text(identifierError)).includes('required'), 'a missing identifier is named');
check(page.url().endsWith('/dashboard/endpoints/new'), 'nothing was saved');
// The seed's steps by their visible names: "Add New" → Identifier → Description → origin
// sequence → "Save".
await page.getByLabel('Identifier').fill('products');
await page.getByLabel('Description').fill('Product photos');
await page.selectOption('#origin-picker', { label: 'first (WEB_FOLDER)' });
await page.click('#add-origin');
await page.selectOption('#origin-picker', { label: 'second (WEB_FOLDER)' });
await page.click('#add-origin');
await page.click('button[aria-label="Move second up"]');
const sequence = async () => page.$$eval('#origin-sequence li', (items) => items.map((li) => li.querySelector('.name').textContent));
check(JSON.stringify(await sequence()) === JSON.stringify(['Media Library', 'second', 'first']), 'the arrows reorder');
await shot('endpoint-new');
await Promise.all([page.waitForURL('**/dashboard/endpoints'), page.getByRole('button', { name: 'Save', exact: true }).click()]);
const chain = await page.$$eval('[data-endpoint="products"] [data-origins] li', (items) => items.map((li) => li.textContent));
check(JSON.stringify(chain) === JSON.stringify(['Media Library', 'second', 'first']), `the list shows the order: ${chain}`);
check((await text('[data-endpoint="products"]')).includes('Product photos'), 'the list shows the description');
check((await text('[data-endpoint="products"] [data-url]')).endsWith('/acme/products/'), 'the list shows the URL');
await shot('endpoints');
let served = await page.request.get(`${BASE}/acme/products/shoes/red.jpg`);
check(served.status() === 200 && served.headers()['x-pixelway-origin'] === 'second', 'delivery honours the order');

// Reorder by dragging, save, and delivery follows.
await page.click('[data-endpoint="products"] a:has-text("Edit")');
await page.waitForSelector('#origin-sequence li[data-id]');
await page.locator('#origin-sequence li[data-id]', { hasText: 'first' })
  .dragTo(page.locator('#origin-sequence li[data-id]', { hasText: 'second' }));
check(JSON.stringify(await sequence()) === JSON.stringify(['Media Library', 'first', 'second']), 'dragging reorders');
await Promise.all([page.waitForURL('**/dashboard/endpoints'), page.click('#endpoint-form button[type=submit]')]);
served = await page.request.get(`${BASE}/acme/products/shoes/red.jpg`);
check(served.headers()['x-pixelway-origin'] === 'first', 'delivery follows the new order');

// ---- Media Library: upload two images, see their thumbnails, open one ---------------------
await visit('/dashboard/library');
await page.setInputFiles('#file-input', [process.env.CUPS, process.env.HILLS]);
await page.waitForSelector('[data-file="pastel-hills.jpg"] img');
await page.waitForFunction(() => {
  const images = [...document.querySelectorAll('#library-grid img')];
  return images.length >= 2 && images.every((i) => i.complete && i.naturalWidth > 0);
});
const thumbnail = await page.getAttribute('[data-file="cups.jpg"] img', 'src');
check(thumbnail.startsWith('/acme/tr:w-320'), `thumbnails are transformation URLs: ${thumbnail}`);
await shot('library');
await page.click('[data-file="cups.jpg"] a');
await page.waitForSelector('#tags-form');
await page.fill('input[name=tags]', 'kitchen, sale');
await page.click('#tags-form button[type=submit]');
await waitText('.flash', 'Tags saved');
await page.click('#purge-file');
await waitText('.flash', 'purged');
await shot('file');
// Delete the other one from its page; then a folder.
await visit('/dashboard/library');
await page.click('[data-file="pastel-hills.jpg"] a');
await Promise.all([page.waitForURL('**/dashboard/library?**'), page.click('button[data-delete]')]);
check(await page.locator('[data-file="pastel-hills.jpg"]').count() === 0, 'the deleted file is gone');
check(await page.locator('[data-file="cups.jpg"]').count() === 1, 'the other file stays');
await page.fill('#folder-name', 'campaign');
await Promise.all([page.waitForURL('**folder=%2Fcampaign%2F'), page.click('#new-folder button[type=submit]')]);
check((await text('.crumbs')).includes('campaign'), 'the new folder is open');
await shot('library-folder');

// ---- URL tester: a URL that falls through one origin ---------------------------------------
await visit('/dashboard/tester');
await page.fill('input[name=url]', `${BASE}/acme/products/tr:w-200/only-b.jpg`);
await Promise.all([page.waitForURL('**/dashboard/tester?**'), page.click('#tester-form button[type=submit]')]);
const attempts = await page.$$eval('#attempts li', (items) => items.map((li) => [li.dataset.attempt, li.querySelector('.outcome').textContent, li.classList.contains('served')]));
check(attempts.length === 3, `three origins tried: ${JSON.stringify(attempts)}`);
check(attempts[1][0] === 'first' && attempts[1][1] === 'ENOENT' && !attempts[1][2], 'first had no such file');
check(attempts[2][0] === 'second' && attempts[2][2], 'second served');
check((await text('[data-transformation]')).includes('w-200'), 'the parsed transformation is shown');
check((await text('[data-route-endpoint]')) === 'products', 'the endpoint is shown');
await page.waitForFunction(() => document.querySelector('#tester-preview')?.naturalWidth === 200);
// The response headers are what a client gets (not the trace's private, no-store).
const shownHeaders = await page.$$eval('table.headers tr', (rows) => Object.fromEntries(rows.map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent])));
check(/^public, max-age=\d+$/.test(shownHeaders['cache-control']), `the client's cache-control: ${shownHeaders['cache-control']}`);
check(!('x-pixelway-client-cache-control' in shownHeaders), 'the stand-in header is not shown');
await shot('tester');

// ---- Named transformations: live preview, then saved ---------------------------------------
await visit('/dashboard/named');
await page.fill('input[name=name]', 'thumb');
await page.fill('input[name=transformation]', 'w-120,h-120');
await page.waitForFunction(() => document.querySelector('#named-preview')?.naturalWidth === 120);
await shot('named-preview');
await Promise.all([page.waitForNavigation(), page.click('#named-form button[type=submit]')]);
check(await page.locator('[data-named="thumb"]').count() === 1, 'the named transformation is listed');
served = await page.request.get(`${BASE}/acme/tr:n-thumb/cups.jpg`);
check(served.status() === 200, 'the named transformation is live');
await shot('named');
await visit('/dashboard/domains');
await shot('domains-account');

// ---- Sign out: protected pages refuse ------------------------------------------------------
await Promise.all([page.waitForURL('**/dashboard/sign-in'), page.click('.sign-out button')]);
await visit('/dashboard/origins');
check(page.url().includes('/dashboard/sign-in'), 'after sign-out a protected page refuses');

// ---- The operator maps a custom domain, and it serves --------------------------------------
await visit('/dashboard/sign-in?as=operator');
await page.fill('input[name=key]', 'operator-token');
await Promise.all([page.waitForURL('**/dashboard'), page.click('.sign-in button[type=submit]')]);
await shot('overview-operator');
await visit('/dashboard/domains');
await page.fill('input[name=host]', 'img.acme.test');
await page.fill('input[name=accountId]', 'acme');
await page.dispatchEvent('input[name=accountId]', 'input');
await page.selectOption('select[name=urlPrefix]', 'products');
await Promise.all([page.waitForNavigation(), page.click('#domain-form button[type=submit]')]);
check((await text('[data-domain="img.acme.test"]')).includes('products'), 'the domain is listed');
await shot('domains');
await visit('/dashboard/tester');
await page.fill('input[name=url]', `http://img.acme.test:${process.env.PORT}/shoes/red.jpg`);
await Promise.all([page.waitForURL('**/dashboard/tester?**'), page.click('#tester-form button[type=submit]')]);
check((await text('[data-route-account]')) === 'acme' && (await text('[data-route-endpoint]')) === 'products',
  'the custom domain routes to the endpoint');
check((await text('[data-status]')) === '200', 'and serves');
await shot('tester-domain');

// ---- The operator makes an account; its key is shown once and opens its dashboard ----------
await visit('/dashboard/accounts');
await page.fill('#account-form input[name=id]', 'fresh');
await page.click('#account-form button[type=submit]');
await page.waitForSelector('#new-keys:not([hidden])');
const firstKey = await text('[data-private-key]');
check(firstKey.startsWith('private_'), `the new private key is shown: ${firstKey}`);
await shot('accounts');
await visit('/dashboard/accounts?q=fre');
check(await page.locator('[data-account="fresh"]').count() === 1, 'the new account is found');
await page.click('[data-account="fresh"] button[data-rotate]');
await page.waitForFunction((old) => {
  const key = document.querySelector('[data-private-key]')?.textContent || '';
  return key.startsWith('private_') && key !== old;
}, firstKey);
const freshKey = await text('[data-private-key]');
await Promise.all([page.waitForURL('**/dashboard/sign-in'), page.click('.sign-out button')]);
await page.fill('input[name=account]', 'fresh');
await page.fill('input[name=key]', freshKey);
await Promise.all([page.waitForURL('**/dashboard'), page.click('.sign-in button[type=submit]')]);
check((await text('[data-identity]')).includes('fresh'), 'the rotated key opens the new account');
await Promise.all([page.waitForURL('**/dashboard/sign-in'), page.click('.sign-out button')]);
await page.fill('input[name=account]', 'fresh');
await page.fill('input[name=key]', firstKey);
await page.click('.sign-in button[type=submit]');
check((await text('#sign-in-error')).includes('do not match'), 'the key before rotation no longer works');

const unexpected = consoleErrors.filter((e) => !e.includes('Failed to load resource'));
check(unexpected.length === 0, `no script or policy errors: ${unexpected.join(' | ')}`);
console.log('dashboard flow: ok');
