// concur HTML report: the time breakdown and the advice, then a flame graph of all time on a
// canvas.
// Plain ES2020, no libraries, nothing fetched. Names from the profile come from the data
// block and reach the page only through textContent and canvas fillText, never as markup.
'use strict';
(() => {
	const D = JSON.parse(document.getElementById('data').textContent);
	const CATS = D.categories;
	const CPU = 0;		// enum concur_cat: CAT_CPU, the only on-CPU category
	const ROW = 18;		// px per flame graph row
	const LEVELS = 30;	// rows drawn below the zoomed frame until all are asked for
	const MIN_W = 0.5;	// px: narrower frames (and all they contain) are not drawn
	const LABEL_W = 28;	// px: narrower frames get no label
	// Table rows beyond these are left out (and said so): tens of thousands of rows would
	// slow the page down for nothing the flame graph's selector cannot show.
	const MAX_PROC_ROWS = 1000;
	const MAX_THREAD_ROWS = 200;

	// Hue, saturation, lightness per category, in enum order (as in the terminal report).
	const CAT_HSL = [
		[8, 78, 58], [44, 92, 52], [288, 50, 62], [218, 70, 62], [186, 62, 48],
		[200, 85, 68], [122, 42, 52], [0, 0, 66], [38, 30, 70], [328, 72, 70],
	];

	const $ = (id) => document.getElementById(id);

	function el(tag, text, cls) {
		const e = document.createElement(tag);
		if (text !== undefined)
			e.textContent = text;
		if (cls)
			e.className = cls;
		return e;
	}

	// Control characters from a target would be invisible: show them as '?', as the
	// terminal report does.
	function clean(s) {
		return String(s).replace(/[\u0000-\u001f\u007f]/g, '?');
	}

	function secs(ns) {
		if (ns >= 10e9)
			return (ns / 1e9).toFixed(0) + 's';
		if (ns >= 1e9)
			return (ns / 1e9).toFixed(2) + 's';
		if (ns >= 1e6 || ns === 0)
			return (ns / 1e6).toFixed(1) + 'ms';
		return (ns / 1e3).toFixed(1) + '\u00b5s';
	}

	function pct(part, whole) {
		return whole > 0 ? 100 * part / whole : 0;
	}

	function pctText(part, whole) {
		const v = pct(part, whole);
		return v >= 99.95 ? '100%' : v.toFixed(1) + '%';
	}

	function catColour(c, dl = 0, satScale = 1) {
		const [h, s, l] = CAT_HSL[c] || CAT_HSL[CAT_HSL.length - 1];
		const light = Math.max(0, Math.min(100, l + dl));
		return `hsl(${h}, ${(s * satScale).toFixed(0)}%, ${light}%)`;
	}

	// ---- The breakdown: the same numbers as the terminal report ----

	function renderHeader() {
		const cmd = (D.command || []).map(clean).join(' ');
		let title = `concur ${D.mode}` + (cmd ? `: ${cmd}` : '');
		if (D.mode === 'run' && D.exit_status >= 0)
			title += `  (exit status ${D.exit_status})`;
		if (D.interrupted)
			title += '  [interrupted]';
		$('title').textContent = title;
		document.title = cmd ? `concur: ${cmd}` : 'concur report';
		const np = D.processes.length, nt = D.threads.length;
		const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
		$('summary').textContent = `window ${secs(D.window_ns)}, ${D.cpus} CPUs, ` +
			`${plural(np, 'process', 'processes')}, ` +
			`${plural(nt, 'thread', 'threads')}, ` +
			`${D.switches} switches, ${D.wakeups} wakeups` +
			(D.sample_hz ? `, stacks sampled at ${D.sample_hz} Hz on-CPU` : '');
		if (D.lost > 0) {
			$('lost').textContent =
				`${D.lost} events could not be accounted (maps full)`;
			$('lost').className = 'bad';
		} else {
			$('lost').textContent = '0 events lost';
		}
	}

	function swatch(c) {
		const s = el('span', undefined, 'swatch');
		s.style.background = catColour(c);
		return s;
	}

	function renderSplit() {
		const table = $('split');
		$('thread-time').textContent = `(thread-time ${secs(D.thread_ns)})`;
		CATS.forEach((name, c) => {
			const tr = table.insertRow();
			const td = tr.insertCell();
			td.append(swatch(c), name);
			const share = pct(D.cat_ns[c], D.thread_ns);
			tr.append(el('td', share.toFixed(1) + '%', 'num'),
				  el('td', secs(D.cat_ns[c]), 'num'));
			const bar = el('div', undefined, 'bar');
			bar.style.width = share.toFixed(2) + '%';
			bar.style.background = catColour(c);
			const cell = tr.insertCell();
			cell.className = 'bar-cell';
			cell.append(bar);
		});
	}

	function headerRow(table, first) {
		const tr = table.createTHead().insertRow();
		for (const [text, cls] of [[first, ''], ['COMM', 'left'], ['TIME', '']]) {
			tr.append(el('th', text, cls));
		}
		CATS.forEach((name, c) => {
			const th = el('th');
			th.append(swatch(c), name);
			tr.append(th);
		});
	}

	// A row: id, comm, total time, then each category as % of the total, tinted by size.
	function dataRow(body, id, comm, total, ns) {
		const tr = body.insertRow();
		tr.append(el('td', String(id), 'num'), el('td', clean(comm), 'comm left'),
			  el('td', secs(total), 'num'));
		ns.forEach((v, c) => {
			const p = pct(v, total);
			const td = el('td', v ? (p >= 99.95 ? '100' : p.toFixed(1)) : '.',
				      v ? 'num' : 'num zero');
			if (v) {
				const [h, s] = CAT_HSL[c];
				const alpha = (p / 100 * 0.6).toFixed(3);
				td.style.background = `hsla(${h}, ${s}%, 60%, ${alpha})`;
			}
			tr.append(td);
		});
		return tr;
	}

	// A last row saying how many were left out.
	function moreRow(body, shown, all) {
		if (shown >= all)
			return;
		const td = el('td', `(${all - shown} more not shown)`, 'left');
		td.colSpan = 3 + CATS.length;
		const tr = body.insertRow();
		tr.className = 'other';
		tr.append(td);
	}

	function renderProcs() {
		const table = $('procs');
		headerRow(table, 'PID');
		const body = table.createTBody();
		for (const pr of D.processes.slice(0, MAX_PROC_ROWS)) {
			dataRow(body, pr.pid, pr.comm, pr.thread_ns, pr.ns);
			if (pr.other.length) {
				const top = pr.other.slice(0, 3).map(([sys, ns]) =>
					`${sys} ${secs(ns)}`);
				const td = el('td', 'other: ' + top.join(', '), 'left');
				td.colSpan = 3 + CATS.length;
				const tr = body.insertRow();
				tr.className = 'other';
				tr.append(td);
			}
		}
		moreRow(body, MAX_PROC_ROWS, D.processes.length);
	}

	function renderThreads() {
		const table = $('threads');
		headerRow(table, 'TID');
		const body = table.createTBody();
		const order = D.threads.slice().sort((a, b) => b.lifetime_ns - a.lifetime_ns);
		for (const t of order.slice(0, MAX_THREAD_ROWS))
			dataRow(body, t.tid, t.comm, t.lifetime_ns, t.ns);
		moreRow(body, MAX_THREAD_ROWS, D.threads.length);
	}

	// ---- Advice: what bounds each scope, and what would help (user/advise.c) ----

	// The classic threads / processes / async table with this scope's figures.
	function designTable(rows) {
		const t = el('table', undefined, 'design');
		const head = t.createTHead().insertRow();
		for (const h of ['', 'this program', 'threads', 'processes', 'async'])
			head.append(el('th', h));
		for (const [aspect, measured, ...marks] of rows) {
			const tr = t.insertRow();
			tr.append(el('td', aspect), el('td', measured, 'note'));
			for (const m of marks)
				tr.append(el('td', m, 'effect ' + m.replace(/ /g, '-')));
		}
		return t;
	}

	// "thread (tid N)", or "tid N" when the profile has no name for it.
	function who(comm, tid) {
		return comm ? `${clean(comm)} (tid ${tid})` : `tid ${tid}`;
	}

	function threadComm(tid) {
		const t = D.threads.find((x) => x.tid === tid);
		return t ? t.comm : '';
	}

	// A stalled event loop: which thread, how long it was held outside its poll, the code
	// that blocked it and the bound of overlapping its stalls (user/advise/advise_stall.c).
	function stallBlock(st) {
		const div = el('div', undefined, 'stall');
		const how = st.python ? 'asyncio\u2019s loop (seen in its frames)'
			: 'an event loop (it polls)';
		div.append(el('p', `Stalled event loop: ${who(threadComm(st.tid), st.tid)} runs ${how}; ` +
			`blocked ${secs(st.ns)} of its ${secs(st.life_ns)} outside its poll ` +
			`(${pct(st.ns, st.life_ns).toFixed(0)}%, ${st.count} wait` +
			`${st.count === 1 ? '' : 's'}${st.category ? ', in ' + st.category : ''}).`));
		const code = el('p', 'blocking code: ');
		code.append(el('span', st.function ? clean(st.function) +
			(st.call ? ` \u2192 ${clean(st.call)}` : '') : 'unknown (no stacks)', 'path'));
		div.append(code);
		div.append(el('p', `bound: \u2264 ${st.bound.toFixed(1)}\u00d7 for the loop: ` +
			`overlapped, its stalls still take ${secs(st.longest_ns)}, its longest code ` +
			`path\u2019s average wait` + (st.bound >= 10 ? ' (capped at 10\u00d7)' : ''),
			'bound'));
		return div;
	}

	function renderAdvice() {
		const A = D.advice, box = $('advice');
		if (!A)
			return;
		$('advice-note').textContent = `(${A.cpus} CPU${A.cpus === 1 ? '' : 's'}, ` +
			`${A.parallelism.toFixed(2)} busy on average)`;
		const single = A.nprocs === 1;
		for (const sc of A.scopes) {
			if (sc.whole && single)
				continue;
			const div = el('div', undefined, 'scope');
			const h = el('h3');
			if (sc.whole)
				h.append('whole workload: ');
			else
				h.append(`${sc.pid} `, el('span', clean(sc.comm), 'comm'), ': ');
			h.append(sc.verdict);
			div.append(h, el('p', sc.why));
			if (sc.stall)
				div.append(stallBlock(sc.stall));
			const table = el('table');
			for (const [lever, effect, bound, basis, reason] of sc.levers) {
				const tr = table.insertRow();
				tr.append(el('td', lever === sc.best ? `${lever} (try first)` : lever));
				tr.append(el('td', effect, 'effect ' + effect.replace(/ /g, '-')));
				tr.append(el('td', bound > 0 ? `\u2264 ${bound.toFixed(1)}\u00d7` : '', 'num'));
				const td = el('td', reason);
				if (basis)
					td.append(el('div', basis, 'note'));
				tr.append(td);
			}
			div.append(table);
			const parts = [];
			sc.ns.map((ns, c) => [ns, c]).sort((x, y) => y[0] - x[0]).forEach(([ns, c]) => {
				if (pct(ns, sc.active_ns) >= 1)
					parts.push(`${CATS[c]} ${pct(ns, sc.active_ns).toFixed(0)}%`);
			});
			let ev = `evidence: ${parts.join(', ')} (${sc.active} active thread` +
				`${sc.active === 1 ? '' : 's'}`;
			if (sc.idle)
				ev += `, ${sc.idle} idle in ${CATS[sc.idle_cat] || '?'}`;
			ev += ')';
			if (sc.gil_ns > 0)
				ev += `; GIL wait ${pct(sc.gil_ns, sc.active_ns).toFixed(0)}%`;
			if (sc.interp_ns >= 0)
				ev += `; CPU samples in the interpreter ` +
					`${pct(sc.interp_ns, sc.interp_ns + sc.native_ns).toFixed(0)}%`;
			div.append(el('p', ev, 'note'));
			div.append(el('p', `context: ${sc.costs}`, 'note'));
			div.append(designTable(sc.table));
			for (const [ns, names] of sc.top) {
				const path = names.slice().reverse().map(clean).join(' \u2190 ');
				div.append(el('div', `${secs(ns)}  ${path}`, 'path'));
			}
			box.append(div);
		}
		const shown = A.scopes.length - 1;
		if (A.nprocs > shown)
			box.append(el('p', `${A.nprocs - shown} more processes: see the JSON summary.`,
				      'note'));
	}

	// ---- GIL waits: who waited in which Python function, who held it (gil_waits.h) ----

	function renderGil() {
		const G = D.gil_waits;
		if (!G || !G.rows.length)
			return;
		$('gil-section').hidden = false;
		$('gil-note').textContent = `(${G.rows.length} of ${G.nrows} by thread and ` +
			'function; the holder is read as each wait begins)';
		const table = $('gil');
		const head = table.createTHead().insertRow();
		for (const [text, cls] of [['TID', ''], ['THREAD', 'left'], ['WAITED', ''],
					   ['WAITS', ''], ['IN', 'left'],
					   ['MEANWHILE THE GIL WAS HELD BY', 'left']])
			head.append(el('th', text, cls));
		const body = table.createTBody();
		for (const [, tid, thread, fn, ns, count, holders] of G.rows) {
			const tr = body.insertRow();
			tr.append(el('td', String(tid), 'num'), el('td', clean(thread), 'comm left'),
				  el('td', secs(ns), 'num'), el('td', String(count), 'num'),
				  el('td', clean(fn), 'fn left'));
			const cell = el('td', undefined, 'left');
			for (const [htid, hthread, hfn, hns] of holders) {
				const line = el('div', undefined, 'holder');
				line.append(el('span', pctText(hns, ns), 'num'), ' ');
				if (!htid) {
					line.append('holder unknown (the GIL free, or changing hands, ' +
						    'when the wait began)');
				} else {
					line.append(`${who(hthread, htid)} ran `,
						    el('span', hfn ? clean(hfn) : '(no Python frame read)',
						       'fn'));
				}
				cell.append(line);
			}
			tr.append(cell);
		}
		if (G.nrows > G.rows.length) {
			const td = el('td', `(${G.nrows - G.rows.length} more not shown: see the ` +
				      'JSON summary)', 'left');
			td.colSpan = 6;
			const tr = body.insertRow();
			tr.className = 'other';
			tr.append(td);
		}
	}

	// ---- Stacks ----
	// D.stacks is flat: pid, tid, category, ns, count, n, then n function indices (root
	// first). The writer sorts stacks by category, then by their functions' name order,
	// so stacks that share a prefix are neighbours and one pass merges them.

	const ST = D.stacks, FN = D.funcs, STR = D.strings;
	const NFUNCS = FN.length / 3;
	const stackOff = (() => {
		const off = [];
		for (let o = 0; o < ST.length; o += 6 + ST[o + 5])
			off.push(o);
		return Int32Array.from(off);
	})();

	// Node labels: a function index, or one of these for the tree's top.
	const ROOT_FN = -1;
	const ALL_CATS = 255;	// the root's category: it holds them all
	const catFn = (c) => -2 - c;

	function fnName(f) {
		if (f >= 0)
			return STR[FN[3 * f]];
		return f === ROOT_FN ? 'all' : CATS[-2 - f];
	}

	// A shade per function, so neighbouring frames of one category can be told apart.
	const shade = (() => {
		const v = new Int8Array(NFUNCS);
		for (let f = 0; f < NFUNCS; f++) {
			const s = STR[FN[3 * f]];
			let h = 2166136261;
			for (let i = 0; i < s.length; i++)
				h = Math.imul(h ^ s.charCodeAt(i), 16777619);
			v[f] = ((h >>> 0) % 9) - 4;
		}
		return v;
	})();

	// The merged tree of one view, in depth-first order: node i's subtree is the nodes
	// [i, i + size[i]), so drawing needs no child lists and skips a narrow subtree in one step.
	class Tree {
		constructor() {
			this.n = 0;
			this.maxDepth = 0;
			this.alloc(4096);
		}

		alloc(cap) {
			const grow = (T, old) => {
				const a = new T(cap);
				if (old)
					a.set(old.subarray(0, this.n));
				return a;
			};
			this.fn = grow(Int32Array, this.fn);
			this.parent = grow(Int32Array, this.parent);
			this.depth = grow(Uint16Array, this.depth);
			this.cat = grow(Uint8Array, this.cat);
			this.size = grow(Int32Array, this.size);
			this.value = grow(Float64Array, this.value);
			this.self = grow(Float64Array, this.self);
			this.count = grow(Float64Array, this.count);
			this.cap = cap;
		}

		add(fn, parent, depth, cat) {
			if (this.n === this.cap)
				this.alloc(this.cap * 2);
			const i = this.n++;
			this.fn[i] = fn;
			this.parent[i] = parent;
			this.depth[i] = depth;
			this.cat[i] = cat;
			this.size[i] = 1;
			if (depth > this.maxDepth)
				this.maxDepth = depth;
			return i;
		}
	}

	// keep(offset) says whether a stack is in the view.
	function buildTree(keep) {
		const t = new Tree();
		const root = t.add(ROOT_FN, -1, 0, ALL_CATS);
		const path = [];	// path[k]: the node of frame k of the previous stack
		let cat = -1, catNode = -1, prevFo = 0, prevN = 0, nstacks = 0;
		const close = (k) => {
			for (let d = path.length - 1; d >= k; d--)
				t.size[path[d]] = t.n - path[d];
			path.length = k;
		};

		for (let s = 0; s < stackOff.length; s++) {
			const o = stackOff[s];
			if (!keep(o))
				continue;
			nstacks++;
			const c = ST[o + 2], ns = ST[o + 3], cnt = ST[o + 4];
			const n = ST[o + 5], fo = o + 6;
			if (c !== cat) {
				close(0);
				if (catNode >= 0)
					t.size[catNode] = t.n - catNode;
				cat = c;
				catNode = t.add(catFn(c), root, 1, c);
				prevN = 0;
			}
			let k = 0;
			const m = Math.min(n, prevN);
			while (k < m && ST[fo + k] === ST[prevFo + k])
				k++;
			close(k);
			for (let d = k; d < n; d++)
				path.push(t.add(ST[fo + d], d ? path[d - 1] : catNode, d + 2, c));
			t.value[root] += ns;
			t.count[root] += cnt;
			t.value[catNode] += ns;
			t.count[catNode] += cnt;
			for (let d = 0; d < n; d++) {
				t.value[path[d]] += ns;
				t.count[path[d]] += cnt;
			}
			t.self[n ? path[n - 1] : catNode] += ns;
			prevFo = fo;
			prevN = n;
		}
		close(0);
		if (catNode >= 0)
			t.size[catNode] = t.n - catNode;
		t.size[root] = t.n;
		t.nstacks = nstacks;
		return t;
	}

	// ---- The flame graph ----

	const canvas = $('canvas'), ctx = canvas.getContext('2d');
	const graph = $('graph'), box = $('graph-box'), tip = $('tip');
	const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
	const state = {
		tree: null,
		zoom: 0,
		allLevels: false,	// draw every row, not LEVELS below the zoomed frame
		match: null,		// Uint8Array per function, null when not searching
		matchSpecial: null,	// the same for 'all' and the categories
		// What was drawn, for hovering and clicking: node, x, width, row.
		hit: { node: new Int32Array(1024), x: new Float32Array(1024),
		       w: new Float32Array(1024), row: new Uint16Array(1024), n: 0 },
	};

	function remember(i, x, w, row) {
		const h = state.hit;
		if (h.n === h.node.length) {
			for (const k of ['node', 'x', 'w', 'row']) {
				const a = new h[k].constructor(h.n * 2);
				a.set(h[k]);
				h[k] = a;
			}
		}
		h.node[h.n] = i;
		h.x[h.n] = x;
		h.w[h.n] = w;
		h.row[h.n] = row;
		h.n++;
	}

	function isMatch(t, i) {
		if (!state.match)
			return false;
		const f = t.fn[i];
		return f >= 0 ? state.match[f] === 1 : state.matchSpecial.has(f);
	}

	// Fill colours, cached: thousands of frames share a few dozen.
	const colourCache = new Map();
	function frameColour(t, i, dimmed) {
		const f = t.fn[i], c = t.cat[i];
		const kernel = f >= 0 && FN[3 * f + 2] === 1;
		const faded = dimmed || (state.match && !isMatch(t, i));
		const sh = f >= 0 ? shade[f] : 0;
		const key = `${c}/${sh}/${kernel}/${faded}`;
		let col = colourCache.get(key);
		if (!col) {
			if (c === ALL_CATS)
				col = faded ? 'hsl(220, 8%, 90%)' : 'hsl(220, 8%, 78%)';
			else if (faded)
				col = `hsl(${CAT_HSL[c][0]}, ${CAT_HSL[c][1] * 0.35}%, 88%)`;
			else
				col = catColour(c, sh * 1.5 - (kernel ? 9 : 0));
			colourCache.set(key, col);
		}
		return col;
	}

	let charW = 7;
	function label(t, i, x, w, y) {
		if (w < LABEL_W)
			return;
		const name = clean(fnName(t.fn[i]));
		const room = Math.floor((w - 6) / charW);
		if (room < 2)
			return;
		const text = name.length <= room ? name : name.slice(0, room - 1) + '\u2026';
		ctx.fillText(text, x + 3, y + ROW / 2 + 0.5, w - 5);
	}

	function drawFrame(t, i, x, w, row, dimmed) {
		const y = row * ROW;
		ctx.fillStyle = frameColour(t, i, dimmed);
		ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW - 1);
		if (!dimmed && isMatch(t, i)) {
			ctx.strokeStyle = '#111';
			ctx.lineWidth = 1.5;
			ctx.strokeRect(x + 0.75, y + 0.75, Math.max(0, w - 2.5), ROW - 2.5);
		}
		remember(i, x, w, row);
	}

	// A 127-frame stack is 2 000 px tall: the rows past LEVELS below the zoomed frame wait
	// until asked for (zooming into a deep frame shows the next ones).
	function visibleRows(t, zoom) {
		const all = t.maxDepth + 1;
		return state.allLevels ? all : Math.min(all, t.depth[zoom] + LEVELS);
	}

	function showDepth(t, rows) {
		const all = t.maxDepth + 1, p = $('depth');
		p.hidden = all <= LEVELS;
		if (p.hidden)
			return;
		$('depth-note').textContent = rows < all ?
			`Showing ${rows} of ${all} levels.` : `Showing all ${all} levels.`;
		$('levels').textContent = state.allLevels ? `Show ${LEVELS} levels` :
			`Show all ${all} levels`;
	}

	function draw() {
		const t0 = performance.now();
		dirty = false;
		const t = state.tree, zoom = state.zoom;
		const W = Math.max(200, box.clientWidth);
		const rows = visibleRows(t, zoom);
		const H = rows * ROW;
		const dpr = window.devicePixelRatio || 1;
		canvas.width = Math.round(W * dpr);
		canvas.height = Math.round(H * dpr);
		canvas.style.width = W + 'px';
		canvas.style.height = H + 'px';
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		ctx.clearRect(0, 0, W, H);
		ctx.font = FONT;
		ctx.textBaseline = 'middle';
		charW = ctx.measureText('abcdefghijklmnopqrstuvwxyz_ABCDEFGH').width / 35;
		state.hit.n = 0;

		// The zoomed frame's callers span the width, faded: a click on one zooms out.
		for (let a = t.parent[zoom]; a >= 0; a = t.parent[a])
			drawFrame(t, a, 0, W, t.depth[a], true);
		const scale = t.value[zoom] > 0 ? W / t.value[zoom] : 0;
		const cursor = new Float64Array(t.maxDepth + 2);
		const end = zoom + t.size[zoom];
		cursor[t.depth[zoom]] = 0;
		for (let i = zoom; i < end;) {
			const d = t.depth[i], x = cursor[d], w = t.value[i] * scale;
			cursor[d] = x + w;
			if (w < MIN_W || d >= rows) {
				i += t.size[i];
				continue;
			}
			cursor[d + 1] = x;
			drawFrame(t, i, x, w, d, false);
			i++;
		}
		// Labels last, in one colour: one state change instead of one per frame.
		ctx.fillStyle = '#111';
		const h = state.hit;
		for (let k = 0; k < h.n; k++)
			label(t, h.node[k], h.x[k], h.w[k], h.row[k] * ROW);

		const ms = performance.now() - t0;
		canvas.dataset.rects = String(h.n);
		canvas.dataset.drawMs = ms.toFixed(1);
		canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + 1);
		canvas.dataset.zoom = fnName(t.fn[zoom]);
		canvas.dataset.rows = String(rows);
		showDepth(t, rows);
	}

	// Redraws at most once per frame, however many events ask, and not at all when a
	// direct draw() came first.
	let dirty = false, scheduled = false;
	function redraw() {
		dirty = true;
		if (scheduled)
			return;
		scheduled = true;
		requestAnimationFrame(() => {
			scheduled = false;
			if (dirty)
				draw();
		});
	}

	function frameAt(ev) {
		const r = canvas.getBoundingClientRect();
		const x = ev.clientX - r.left, row = Math.floor((ev.clientY - r.top) / ROW);
		const h = state.hit;
		for (let k = 0; k < h.n; k++) {
			if (h.row[k] === row && x >= h.x[k] && x < h.x[k] + h.w[k])
				return h.node[k];
		}
		return -1;
	}

	// ---- Hover details ----

	// concur's pseudo frames at the root of the stacks it had to cut (stack_marks.h).
	const MARKS = new Map([
		['[truncated]', 'stacks deeper than the unwinder keeps (127 frames): their outer ' +
			'callers are missing'],
		['[unwind stopped]', 'the unwinder reached an address outside the process\'s ' +
			'code: the stacks are cut there'],
	]);

	function tipLine(text, cls) {
		tip.append(el('div', text, cls));
	}

	function showTip(i, ev) {
		const t = state.tree;
		const f = t.fn[i], total = t.value[0];
		tip.replaceChildren();
		tipLine(clean(fnName(f)), 'name');
		if (f >= 0) {
			const kernel = FN[3 * f + 2] === 1;
			const module = clean(STR[FN[3 * f + 1]]) + (kernel ? ' (kernel)' : '');
			tipLine(`${module} \u00b7 ${CATS[t.cat[i]]}`, 'dim');
			if (!kernel && STR[FN[3 * f + 1]] === '[concur]' && MARKS.has(fnName(f)))
				tipLine(MARKS.get(fnName(f)), 'dim');
		} else if (f !== ROOT_FN) {
			tipLine('category', 'dim');
		}
		tipLine(`time: ${secs(t.value[i])} (${pctText(t.value[i], total)} of total)`);
		if (state.zoom !== 0 && t.value[state.zoom] > 0)
			tipLine(`${pctText(t.value[i], t.value[state.zoom])} of the zoomed frame`,
				'dim');
		if (t.self[i] > 0)
			tipLine(`self: ${secs(t.self[i])} (${pctText(t.self[i], total)})`);
		const what = t.cat[i] === CPU ? 'samples' :
			t.cat[i] === ALL_CATS ? 'samples + intervals' : 'intervals';
		tipLine(`${what}: ${t.count[i]}`);

		tip.hidden = false;
		const g = graph.getBoundingClientRect();
		let x = ev.clientX - g.left + 14, y = ev.clientY - g.top + 16;
		if (x + tip.offsetWidth > g.width)
			x = Math.max(0, ev.clientX - g.left - tip.offsetWidth - 14);
		// Above the pointer near the box's bottom: a tip hanging below would grow the page
		// and move it under the pointer when the tip changes.
		if (y + tip.offsetHeight > g.height)
			y = Math.max(0, ev.clientY - g.top - tip.offsetHeight - 8);
		tip.style.left = x + 'px';
		tip.style.top = y + 'px';
	}

	canvas.addEventListener('mousemove', (ev) => {
		const i = frameAt(ev);
		if (i < 0)
			tip.hidden = true;
		else
			showTip(i, ev);
	});
	canvas.addEventListener('mouseleave', () => {
		tip.hidden = true;
	});
	canvas.addEventListener('click', (ev) => {
		const i = frameAt(ev);
		if (i >= 0 && i !== state.zoom) {
			state.zoom = i;
			redraw();
		}
	});
	function resetZoom() {
		if (state.zoom !== 0) {
			state.zoom = 0;
			redraw();
		}
	}
	$('reset').addEventListener('click', resetZoom);
	$('levels').addEventListener('click', () => {
		state.allLevels = !state.allLevels;
		redraw();
	});
	document.addEventListener('keydown', (ev) => {
		if (ev.key === 'Escape')
			resetZoom();
	});

	// ---- Search ----

	function matcher(text) {
		const re = /^\/(.+)\/([a-z]*)$/.exec(text);
		if (re) {
			try {
				// Without g or y: test() would then carry state from one name to the next.
				const r = new RegExp(re[1], re[2].replace(/[gy]/g, ''));
				return (s) => r.test(s);
			} catch (e) {
				return null;
			}
		}
		const lower = text.toLowerCase();
		return (s) => s.toLowerCase().includes(lower);
	}

	// Time in matching frames, each counted once: a match inside a match adds nothing.
	function matchedTime(t) {
		let sum = 0;
		for (let i = 1; i < t.n;) {
			if (isMatch(t, i)) {
				sum += t.value[i];
				i += t.size[i];
			} else {
				i++;
			}
		}
		return sum;
	}

	function applySearch() {
		const text = $('search').value.trim();
		const m = text ? matcher(text) : null;
		const out = $('match');
		if (!m) {
			state.match = null;
			out.textContent = text ? 'invalid regular expression' : '';
			delete out.dataset.pct;
			redraw();
			return;
		}
		state.match = new Uint8Array(NFUNCS);
		for (let f = 0; f < NFUNCS; f++)
			state.match[f] = m(STR[FN[3 * f]]) ? 1 : 0;
		// Categories are frames too ("lock" finds them); the root is not.
		state.matchSpecial = new Set();
		for (let f = catFn(0); f >= catFn(CATS.length - 1); f--) {
			if (m(fnName(f)))
				state.matchSpecial.add(f);
		}
		const t = state.tree, sum = matchedTime(t);
		out.textContent = `matched ${pctText(sum, t.value[0])} of total (${secs(sum)})`;
		out.dataset.pct = pct(sum, t.value[0]).toFixed(3);
		redraw();
	}

	let searchTimer = 0;
	$('search').addEventListener('input', () => {
		clearTimeout(searchTimer);
		searchTimer = setTimeout(applySearch, 120);
	});
	$('search').addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter') {
			clearTimeout(searchTimer);
			applySearch();
		}
	});

	// ---- Views: all time, on- or off-CPU only; everything, one process or one thread ----

	function renderScopes() {
		const sel = $('scope');
		const procs = el('optgroup');
		procs.label = 'Process';
		for (const pr of D.processes) {
			const o = el('option', `pid ${pr.pid} ${clean(pr.comm)}`);
			o.value = `p${pr.pid}`;
			procs.append(o);
		}
		const threads = el('optgroup');
		threads.label = 'Thread';
		for (const th of D.threads) {
			const o = el('option', `tid ${th.tid} ${clean(th.comm)} (pid ${th.pid})`);
			o.value = `t${th.tid}`;
			threads.append(o);
		}
		sel.append(procs, threads);
	}

	function viewFilter() {
		const time = $('time').value, scope = $('scope').value;
		const id = Number(scope.slice(1));
		const timeOk = time === 'cpu' ? (o) => ST[o + 2] === CPU :
			time === 'off' ? (o) => ST[o + 2] !== CPU : () => true;
		if (scope[0] === 'p')
			return (o) => ST[o] === id && timeOk(o);
		if (scope[0] === 't')
			return (o) => ST[o + 1] === id && timeOk(o);
		return timeOk;
	}

	function renderLegend(t) {
		const legend = $('legend');
		legend.replaceChildren();
		for (let i = 1; i < t.n; i += t.size[i]) {
			const c = t.cat[i], item = el('span');
			item.append(swatch(c), `${CATS[c]} ${pctText(t.value[i], t.value[0])}`);
			legend.append(item);
		}
	}

	function setView() {
		const t0 = performance.now();
		const t = buildTree(viewFilter());
		state.tree = t;
		state.zoom = 0;
		state.hit.n = 0;	// until the next draw: it held the old tree's nodes
		const total = $('view-total');
		total.textContent = `total ${secs(t.value[0])} in ${t.nstacks} stack` +
			`${t.nstacks === 1 ? '' : 's'}, ${t.n - 1} merged frames`;
		total.dataset.totalNs = String(t.value[0]);
		canvas.dataset.nodes = String(t.n);
		canvas.dataset.buildMs = (performance.now() - t0).toFixed(1);
		$('empty').hidden = t.nstacks > 0;
		graph.hidden = t.nstacks === 0;
		renderLegend(t);
		applySearch();
	}

	$('time').addEventListener('change', setView);
	$('scope').addEventListener('change', setView);
	let lastWidth = 0;
	window.addEventListener('resize', () => {
		if (box.clientWidth !== lastWidth) {
			lastWidth = box.clientWidth;
			redraw();
		}
	});

	// For scripts and tests driving the page: where frames are drawn, in canvas pixels.
	window.concurReport = {
		frames(name) {
			const h = state.hit, out = [];
			for (let k = 0; k < h.n; k++) {
				const label = fnName(state.tree.fn[h.node[k]]);
				if (name === undefined || label === name)
					out.push({ name: label, x: h.x[k], y: h.row[k] * ROW,
						   w: h.w[k], h: ROW });
			}
			return out;
		},
	};

	renderHeader();
	renderSplit();
	renderProcs();
	renderThreads();
	renderAdvice();
	renderGil();
	renderScopes();
	if (!ST.length) {
		$('empty').textContent = 'This profile has no stacks (recorded with --no-stacks, ' +
			'or no thread was seen).';
	}
	setView();
	// The first draw happens now, not on the next frame, and says when it was done: the
	// time from navigation to a drawn graph.
	draw();
	document.body.dataset.firstDrawMs = performance.now().toFixed(0);
	document.body.dataset.ready = '1';
})();
