// The HTML report in a real browser (Debian's chromium, driven by playwright-core): the
// fixture's report draws, searches, zooms, switches views, shows hostile names as text and
// runs nothing of theirs; a 100 000-stack report draws and zooms without freezing; a report
// with a 127-frame stack keeps the flame graph in a bounded box, below the advice. The GIL
// table shows hostile names as text and what the JSON summary says; a stalled loop's advice
// names the blocking code and the bound.
// Usage: node check_html.mjs FIXTURE.html BIG.html SCREENSHOT.png DEEP.html [GIL.html
//        HOSTILE_GIL.html GIL_WAITS.html GIL_WAITS.json STALL.html STALL.json]
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [fixturePath, bigPath, shotPath, deepPath, gilPath, hostileGilPath, gilWaitsPath,
       gilWaitsJson, stallPath, stallJson] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Generous: only a freeze should fail; the timings measured are printed.
const FREEZE_MS = 20000;

let passed = 0, failed = 0;
function check(ok, what, detail = '') {
	if (ok) {
		passed++;
		console.log(`PASS: html: ${what}`);
	} else {
		failed++;
		console.log(`FAIL: html: ${what}${detail ? `: ${detail}` : ''}`);
	}
}

const near = (a, b, tol) => Math.abs(a - b) <= tol;

// A page that records everything that must not happen: dialogs, errors, network.
async function openPage(browser, path) {
	const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
	const page = await context.newPage();
	const url = pathToFileURL(path).href;
	const bad = { dialogs: [], errors: [], requests: [] };
	page.on('dialog', (d) => {
		bad.dialogs.push(`${d.type()}: ${d.message()}`);
		d.dismiss().catch(() => {});
	});
	page.on('pageerror', (e) => bad.errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error')
			bad.errors.push(m.text());
	});
	context.on('request', (r) => {
		if (r.url() !== url)
			bad.requests.push(r.url());
	});
	// Set before any of the page's own script: a hostile name that ran code would call one.
	await page.addInitScript(() => {
		window.__ran = [];
		window.alert = (m) => window.__ran.push(`alert ${m}`);
		window.confirm = window.prompt = (m) => window.__ran.push(`dialog ${m}`);
	});
	const t0 = Date.now();
	await page.goto(url, { waitUntil: 'load', timeout: 60000 });
	await page.waitForFunction(() => document.body.dataset.ready === '1', null,
		{ timeout: 60000 });
	return { page, context, bad, loadMs: Date.now() - t0 };
}

const canvasData = (page) => page.$eval('#canvas', (c) => ({ ...c.dataset }));
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
const frames = (page, name) => page.evaluate((n) => window.concurReport.frames(n), name);

// The colour at a canvas point (CSS pixels), as [r, g, b, a].
function pixel(page, x, y) {
	return page.$eval('#canvas', (c, [x, y]) => {
		const r = window.devicePixelRatio || 1;
		return Array.from(c.getContext('2d').getImageData(Math.round(x * r),
			Math.round(y * r), 1, 1).data);
	}, [x, y]);
}

// The graph's box (at most 560 px tall) is scrolled into the viewport first: the breakdown
// and the advice come before it.
async function canvasPoint(page, f) {
	const box = await page.$eval('#canvas', (c) => {
		document.getElementById('graph').scrollIntoView({ block: 'start' });
		const r = c.getBoundingClientRect();
		return { x: r.left, y: r.top };
	});
	return { x: box.x + f.x + Math.min(f.w / 2, 40), y: box.y + f.y + f.h / 2 };
}

// Waits for the next draw after act(), and says how long it took from act() on.
async function timedDraw(page, act) {
	const before = Number((await canvasData(page)).draws);
	const t0 = Date.now();
	await act();
	await page.waitForFunction(
		(n) => Number(document.getElementById('canvas').dataset.draws) > n,
		before, { timeout: FREEZE_MS });
	return Date.now() - t0;
}

async function fixtureChecks(browser) {
	const { page, context, bad } = await openPage(browser, fixturePath);
	const TOTAL = 4350e6;	// all the fixture's stacks: 600+300+700+200+1800+300+450 ms

	const c = await canvasData(page);
	check(Number(c.rects) >= 30, 'flame graph drawn', `rects=${c.rects}`);
	const [r, g, b, a] = await pixel(page, 5, 5);
	check(a === 255 && !(r === 255 && g === 255 && b === 255), 'canvas pixels painted',
		`pixel ${[r, g, b, a]}`);
	check(Number(await page.$eval('#view-total', (e) => e.dataset.totalNs)) === TOTAL,
		'view total is all stacks');
	check((await text(page, '#title')).includes('./server --bench'), 'title names the command');
	check((await text(page, '#summary')).startsWith(
		'window 2.00s, 2 CPUs, 2 processes, 3 threads, 1234 switches'), 'breakdown header');
	check((await page.$$('#split tr')).length === 10, 'one split row per category');
	const cpuRow = await page.$eval('#split tr', (tr) => tr.textContent);
	check(cpuRow.includes('cpu') && cpuRow.includes('%'), 'split shows cpu %', cpuRow);
	const legend = await text(page, '#legend');
	check(/cpu 31\.0%/.test(legend) && /wait 41\.4%/.test(legend), 'legend by category',
		legend);

	// Hostile names: shown as text, never as markup.
	const procs = await text(page, '#procs');
	check(procs.includes('<script>?\ufffd'), 'hostile comm shown as text', procs);
	const scopes = await page.$$eval('#scope option', (os) => os.map((o) => o.textContent));
	check(scopes.some((s) => s.includes('<script>?')), 'hostile comm in the thread list');
	const advice = await text(page, '#advice');
	check(advice.includes('threads (try first)') && advice.includes('context: 2 CPUs usable'),
	      'advice names the lever to try first and its context', advice.slice(0, 300));
	// The classic table, per scope: a row per aspect, the figure, a mark per design.
	const design = await page.$$eval('#advice table.design', (ts) => ts.map((t) =>
		[...t.rows].map((r) => [...r.cells].map((c) => c.textContent))));
	check(design.length >= 1 && design.every((t) => t.length === 8),
		'a design table of 7 aspects per scope', JSON.stringify(design[0]));
	const cpu = design.length ? design[0][1] : [];
	check(cpu[0] === 'CPU in parallel' && /of 2 CPUs busy/.test(cpu[1]) &&
		['helps', 'no effect', 'hurts', 'already used', 'n/a'].includes(cpu[2]),
		'the CPU row shows the figure and a mark', JSON.stringify(cpu));
	check(await page.$$eval('img', (l) => l.length) === 0, 'no <img> element created');
	check(await page.$$eval('script', (l) => l.length) === 2, 'only the two own scripts');
	const hostile = (await frames(page, 'parse_<img src=x onerror=alert(1)>'))[0];
	check(hostile !== undefined, 'hostile function is a frame');
	if (hostile) {
		const p = await canvasPoint(page, hostile);
		await page.mouse.move(p.x, p.y);
		const tip = await text(page, '#tip');
		check(tip.includes('parse_<img src=x onerror=alert(1)>') && tip.includes('300.0ms'),
			'hover shows the hostile name as text', tip);
	}

	// Hover details.
	const burn = (await frames(page, 'burn_cpu'))[0];
	check(burn !== undefined, 'burn_cpu is a frame');
	if (burn) {
		const p = await canvasPoint(page, burn);
		await page.mouse.move(p.x, p.y);
		const tip = await text(page, '#tip');
		check(tip.includes('600.0ms') && tip.includes('13.8% of total') &&
		      tip.includes('samples: 60'), 'hover: time, percent, samples', tip);
	}

	// Search.
	await page.fill('#search', 'burn_cpu');
	await page.press('#search', 'Enter');
	await page.waitForFunction(() => document.getElementById('match').dataset.pct);
	const pct = Number(await page.$eval('#match', (e) => e.dataset.pct));
	check(near(pct, 100 * 600 / 4350, 0.01), 'search burn_cpu matches 600/4350 ms',
		`${pct}% (${await text(page, '#match')})`);
	check((await text(page, '#match')).startsWith('matched 13.8% of total'), 'match readout');
	await page.evaluate(() => new Promise(requestAnimationFrame));
	if (burn) {
		const wait = (await frames(page, 'wait'))[0];
		// Right of the labels, inside the outline.
		const hit = await pixel(page, burn.x + burn.w - 6, burn.y + 9);
		const miss = await pixel(page, wait.x + wait.w - 6, wait.y + 9);
		const sat = ([r, g, b]) => Math.max(r, g, b) - Math.min(r, g, b);
		check(sat(hit) > 80 && sat(miss) < 40, 'match highlighted, the rest faded',
			`match ${hit}, other ${miss}`);
	}
	const p = await canvasPoint(page, burn);
	await page.mouse.move(p.x, p.y);
	await page.screenshot({ path: shotPath, fullPage: true });

	// Zoom: click handle_request under cpu; the reset button zooms back out.
	const handle = (await frames(page, 'handle_request')).find((f) => f.y === burn.y - 18);
	await timedDraw(page, async () => {
		const p = await canvasPoint(page, handle);
		await page.mouse.click(p.x, p.y);
	});
	const zoomed = await canvasData(page);
	const burnZoomed = (await frames(page, 'burn_cpu'))[0];
	check(zoomed.zoom === 'handle_request' && burnZoomed.w > burn.w * 2,
		'click zooms into a frame', `zoom=${zoomed.zoom} w ${burn.w} -> ${burnZoomed.w}`);
	await timedDraw(page, () => page.click('#reset'));
	check((await canvasData(page)).zoom === 'all', 'reset zooms out');
	await page.fill('#search', '');
	await page.press('#search', 'Enter');

	// Views.
	const totalOf = async () =>
		Number(await page.$eval('#view-total', (e) => e.dataset.totalNs));
	await page.selectOption('#time', 'off');
	check(await totalOf() === 3000e6, 'off-CPU only: 700+200+1800+300 ms',
		String(await totalOf()));
	await page.selectOption('#time', 'cpu');
	check(await totalOf() === 1350e6, 'on-CPU only: 600+300+450 ms', String(await totalOf()));
	await page.selectOption('#time', 'all');
	await page.selectOption('#scope', 't101');
	check(await totalOf() === 1800e6, 'thread 101 only: 600+300+700+200 ms');
	await page.evaluate(() => new Promise(requestAnimationFrame));
	check((await frames(page, 'wait4')).length === 0 && (await frames(page, 'burn_cpu')).length,
		'thread view draws only its stacks');
	await page.selectOption('#scope', 'p200');
	check(await totalOf() === 750e6, 'process 200 only: 300+450 ms');
	await page.selectOption('#time', 'off');
	check(await totalOf() === 300e6, 'process 200 off-CPU: 300 ms');

	check(bad.dialogs.length === 0, 'no dialog opened', bad.dialogs.join('; '));
	const ran = await page.evaluate(() => window.__ran);
	check(ran.length === 0, 'no alert() ran', ran.join('; '));
	check(bad.errors.length === 0, 'no script error or CSP violation', bad.errors.join('; '));
	check(bad.requests.length === 0, 'nothing fetched', bad.requests.join(' '));
	await context.close();
}

async function bigChecks(browser) {
	const { page, context, bad, loadMs } = await openPage(browser, bigPath);
	const body = await page.$eval('body', (b) => ({ ...b.dataset }));
	const c = await canvasData(page);
	const first = Number(body.firstDrawMs);
	console.log(`html: 100k stacks: first draw ${first} ms after navigation ` +
		`(tree ${c.buildMs} ms for ${c.nodes} nodes, draw ${c.drawMs} ms for ${c.rects} ` +
		`rectangles), load+ready seen by the driver ${loadMs} ms`);
	check(first < FREEZE_MS && Number(c.rects) > 1000, '100k stacks: first draw',
		`${first} ms, ${c.rects} rects`);

	// Zoom into the widest frame three rows down.
	const row = (await frames(page)).filter((f) => f.y === 4 * 18).sort((a, b) => b.w - a.w)[0];
	const zoomMs = await timedDraw(page, async () => {
		const p = await canvasPoint(page, row);
		await page.mouse.click(p.x, p.y);
	});
	const z = await canvasData(page);
	console.log(`html: 100k stacks: zoom click to drawn ${zoomMs} ms (draw ${z.drawMs} ms, ` +
		`${z.rects} rectangles)`);
	check(z.zoom === row.name && zoomMs < FREEZE_MS, '100k stacks: zoom responds');

	const hoverT0 = Date.now();
	await page.mouse.move(200, 300);
	await page.mouse.move(600, 200);
	console.log(`html: 100k stacks: two hovers ${Date.now() - hoverT0} ms`);

	const viewMs = await timedDraw(page, () => page.selectOption('#time', 'cpu'));
	const v = await canvasData(page);
	console.log(`html: 100k stacks: switch to on-CPU ${viewMs} ms (tree ${v.buildMs} ms, ` +
		`${v.nodes} nodes)`);
	check(viewMs < FREEZE_MS, '100k stacks: view switch responds');

	const searchMs = await timedDraw(page, async () => {
		await page.fill('#search', 'handle_request_0123');
		await page.press('#search', 'Enter');
	});
	const matched = await text(page, '#match');
	console.log(`html: 100k stacks: search to drawn ${searchMs} ms (${matched})`);
	check(searchMs < FREEZE_MS && (await text(page, '#match')).startsWith('matched'),
		'100k stacks: search responds');
	check(bad.errors.length === 0, '100k stacks: no script error', bad.errors.join('; '));
	await context.close();
}

// Where an element is on the page (document coordinates).
const pageRect = (page, sel) => page.$eval(sel, (e) => {
	const r = e.getBoundingClientRect();
	return { top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, h: r.height };
});

async function deepChecks(browser) {
	const { page, context, bad } = await openPage(browser, deepPath);
	const MAX_BOX = 600;	// px: the graph's box, however deep the stacks (CSS: 560)

	const graph = await pageRect(page, '#graph'), advice = await pageRect(page, '#advice');
	const split = await pageRect(page, '#split');
	check(graph.h > 0 && graph.h <= MAX_BOX, '127-frame stack: flame graph box bounded',
		`${graph.h} px`);
	check(advice.bottom <= graph.top && split.bottom <= advice.top,
		'breakdown, then advice, then the flame graph',
		`split ${split.bottom}, advice ${advice.top}-${advice.bottom}, graph ${graph.top}`);
	const c = await canvasData(page);
	check(Number(c.rows) < 127 + 3 && Number(c.rows) * 18 <= MAX_BOX,
		'127-frame stack: only the first levels drawn', `rows=${c.rows}`);
	const levels = await text(page, '#levels');
	check(!(await page.$eval('#depth', (e) => e.hidden)) && /Show all 1[23]\d levels/.test(levels),
		'a control offers all the levels', levels);
	const mark = (await frames(page, '[truncated]'))[0];
	check(mark !== undefined && mark.y === 2 * 18, '[truncated] drawn under the category',
		JSON.stringify(mark));
	if (mark) {
		const p = await canvasPoint(page, mark);
		await page.mouse.move(p.x, p.y);
		const tip = await text(page, '#tip');
		check(tip.includes('[concur]') && tip.includes('outer callers are missing'),
			'hover on [truncated] explains it', tip);
	}
	await timedDraw(page, () => page.click('#levels'));
	const all = await canvasData(page);
	const after = await pageRect(page, '#graph');
	const canvasH = await page.$eval('#canvas', (e) => e.getBoundingClientRect().height);
	check(Number(all.rows) >= 127 + 2 && canvasH > after.h && after.h <= MAX_BOX,
		'show all: every level drawn, scrolling inside the bounded box',
		`rows=${all.rows}, canvas ${canvasH} px in a ${after.h} px box`);
	const deepest = (await frames(page, 'descend')).reduce((m, f) => Math.max(m, f.y), 0);
	check(deepest >= 127 * 18, 'show all: the deepest descend frame drawn', `y=${deepest}`);
	check(bad.errors.length === 0, '127-frame stack: no script error', bad.errors.join('; '));
	await context.close();
}

// A CPython recording (tests/render/recordings/gil.concur): the advice's evidence shows the
// measured GIL wait and where the CPU samples ran, as the text report does.
async function gilChecks(browser) {
	const { page, context, bad } = await openPage(browser, gilPath);
	const advice = await text(page, '#advice');
	check(/GIL wait 41%; CPU samples in the interpreter 100%/.test(advice),
	      'CPython evidence: GIL wait and the interpreter share of the CPU samples',
	      advice.slice(0, 600));
	check(bad.errors.length === 0, 'CPython report: no script error', bad.errors.join('; '));
	await context.close();
}

// The GIL table's rows as shown: [tid, thread, waited, waits, function, [holder lines]].
const gilRows = (page) => page.$$eval('#gil tbody tr:not(.other)', (trs) => trs.map((tr) => {
	const c = [...tr.cells];
	return [...c.slice(0, 5).map((x) => x.textContent),
		[...c[5].querySelectorAll('.holder')].map((d) => d.textContent)];
}));

// secs() of the page, for comparing its figures with the JSON's nanoseconds.
function secs(ns) {
	if (ns >= 10e9)
		return (ns / 1e9).toFixed(0) + 's';
	if (ns >= 1e9)
		return (ns / 1e9).toFixed(2) + 's';
	if (ns >= 1e6 || ns === 0)
		return (ns / 1e6).toFixed(1) + 'ms';
	return (ns / 1e3).toFixed(1) + '\u00b5s';
}

// The fixture with GIL waits named as markup: shown as text in the GIL table, nothing run.
// A report without GIL waits (the plain fixture) has no GIL section.
async function hostileGilChecks(browser) {
	{
		const { page, context } = await openPage(browser, fixturePath);
		check(await page.$eval('#gil-section', (e) => e.hidden),
		      'no GIL waits: no GIL section');
		await context.close();
	}
	const { page, context, bad } = await openPage(browser, hostileGilPath);
	check(!(await page.$eval('#gil-section', (e) => e.hidden)), 'GIL waits: the section shown');
	const rows = await gilRows(page);
	const evil = rows.find((r) => r[0] === '101');
	check(rows.length === 2 && evil && evil[1] === 'worker "1"' &&
	      evil[4] === '<img src=x onerror=alert(2)> (evil.py:1)' && evil[2] === '250.0ms' &&
	      evil[3] === '25', 'hostile waiter function shown as text', JSON.stringify(rows));
	check(evil && evil[5].length === 1 &&
	      evil[5][0] === '100% server (tid 100) ran </script><b>held</b> (evil.py:2)',
	      'hostile holder function shown as text', JSON.stringify(evil && evil[5]));
	const main = rows.find((r) => r[0] === '100');
	check(main && main[4] === 'compute (app.py:30)' && main[5].length === 2 &&
	      main[5][0] === '75.0% worker "1" (tid 101) ran parse_rows (etl.py:88)' &&
	      main[5][1].startsWith('25.0% holder unknown'),
	      'holders by share, the unknown one said so', JSON.stringify(main));
	check(await page.$$eval('img, b', (l) => l.length) === 0, 'GIL table: no element from a name');
	check(await page.$$eval('script', (l) => l.length) === 2, 'GIL table: only the two own scripts');
	const ran = await page.evaluate(() => window.__ran);
	check(ran.length === 0 && bad.dialogs.length === 0, 'GIL table: nothing ran',
	      ran.concat(bad.dialogs).join('; '));
	check(bad.errors.length === 0, 'GIL table: no script error', bad.errors.join('; '));
	await context.close();
}

// A recording of gil_holders.py (three threads sharing the GIL): the table says what the JSON
// summary of the same recording says, row by row, holder by holder.
async function gilWaitsChecks(browser) {
	const want = JSON.parse(readFileSync(gilWaitsJson, 'utf8')).gil_waits;
	const { page, context, bad } = await openPage(browser, gilWaitsPath);
	const rows = await gilRows(page);
	check(want.length > 0 && rows.length === want.length, 'a GIL row per JSON gil_waits row',
	      `${rows.length} shown, ${want.length} in the JSON`);
	let same = 0;
	const diffs = [];
	want.forEach((w, i) => {
		const r = rows[i] || [];
		const holders = w.holders.slice(0, 5).map((h) => {
			const share = 100 * h.ns / w.ns;
			const p = share >= 99.95 ? '100%' : share.toFixed(1) + '%';
			return h.tid ? `${p} ${h.thread} (tid ${h.tid}) ran ` +
				(h.function || '(no Python frame read)')
				: `${p} holder unknown (the GIL free, or changing hands, when the ` +
				  'wait began)';
		});
		const exp = [String(w.tid), w.thread, secs(w.ns), String(w.count), w.function,
			     holders];
		if (JSON.stringify(exp) === JSON.stringify(r))
			same++;
		else
			diffs.push(`${JSON.stringify(r)} != ${JSON.stringify(exp)}`);
	});
	check(same === want.length, 'GIL rows agree with the JSON summary', diffs.join('; '));
	const parser = rows.find((r) => r[1] === 'parser' && r[4].startsWith('crunch_rows'));
	check(parser && parser[5].some((h) => / renderer \(tid \d+\) ran paint_page /.test(h)),
	      'the parser waited while the renderer ran paint_page', JSON.stringify(parser));
	check(bad.errors.length === 0, 'GIL recording: no script error', bad.errors.join('; '));
	await context.close();
}

// A recording of stalled_loop.py --sleep-stall 1 (time.sleep in a coroutine): the advice
// shows the stalled loop with the blocking function, the call and the bound, as the JSON.
async function stallChecks(browser) {
	const whole = JSON.parse(readFileSync(stallJson, 'utf8')).advice.whole;
	const st = whole.evidence.stall;
	const { page, context, bad } = await openPage(browser, stallPath);
	const blocks = await page.$$eval('#advice .stall', (l) => l.map((e) => e.textContent));
	check(whole.verdict === 'loop_stalled' && st && blocks.length >= 1,
	      'a stalled-loop block in the advice', `${whole.verdict}, ${blocks.length} blocks`);
	const b = blocks[0] || '';
	check(st && b.includes(`blocking code: ${st.function} \u2192 ${st.call}`) &&
	      st.function.startsWith('sleeping_request (stalled_loop.py:'),
	      'the blocking function and call named', b);
	const bound = whole.levers.async.bound;
	check(bound > 1 && b.includes(`bound: \u2264 ${bound.toFixed(1)}\u00d7`) &&
	      b.includes(`its stalls still take ${secs(st.longest_ns)}`),
	      'the bound and the longest wait shown', `${bound}: ${b}`);
	check(st && b.includes(`blocked ${secs(st.ns)} of its ${secs(st.life_ns)} outside its ` +
	      `poll`) && b.includes(`${st.count} waits, in ${st.category}`),
	      'the time stalled, the waits and the category shown', b);
	check(bad.errors.length === 0, 'stalled loop: no script error', bad.errors.join('; '));
	await context.close();
}

const browser = await chromium.launch({
	executablePath: CHROMIUM,
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
	       '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
	await fixtureChecks(browser);
	await bigChecks(browser);
	await deepChecks(browser);
	if (gilPath)
		await gilChecks(browser);
	if (hostileGilPath)
		await hostileGilChecks(browser);
	if (gilWaitsPath)
		await gilWaitsChecks(browser);
	if (stallPath)
		await stallChecks(browser);
} catch (e) {
	check(false, 'browser check ran to the end', e.stack || String(e));
} finally {
	await browser.close();
}
console.log(`html: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
