/* app.js — canhgac's web console: a single page over the JSON API of
 * `canhgac serve` (API.md), routed by the location's hash.
 *
 * Invariants:
 *  1. Every string from the server reaches the page as a text node
 *     (textContent, createTextNode, an attribute's value); nothing is parsed
 *     as HTML. No innerHTML, no eval, no inline script or style: the
 *     server's Content-Security-Policy forbids them and this file needs none.
 *  2. Links are built only from ids the server gives as numbers (checked by
 *     num()) and from the page's own words; a URL, host or address in an
 *     incident is shown as text, never as a link.
 *  3. Every change (POST) carries the session's CSRF token (from login or
 *     /api/me) in X-CSRF-Token.
 *  4. A 401 from the API sends to #/login; every other error is one line in
 *     the page (the server's "error"), never an exception the user sees.
 *  5. Labels come from i18n.js through t(); the language is the one stored
 *     in localStorage, else navigator.language (vi* gives vi, else en).
 */
'use strict';
(function () {
    var I18N = window.CG_I18N || { en: {}, vi: {} };
    var ROLES = { viewer: 1, analyst: 2, responder: 3, admin: 4 };
    var STATUSES = ['new', 'acknowledged', 'investigating', 'resolved', 'false-positive'];
    var SEVERITIES = { 1: 'high', 2: 'medium', 3: 'low', 4: 'info' };
    var POLL_MS = 5000;
    var MAX_ID = '18446744073709551615';

    var state = {
        me: null, /* {user, role, csrf} once logged in */
        lang: 'en',
        lastQuery: '',
        latest: null, /* the newest incident id seen, for /api/since */
        fresh: [], /* incidents newer than latest, for the banner */
        pollTimer: null,
        gPending: 0, /* time of a 'g' key, for "g d" and "g q" */
        seq: 0 /* bumps on every route: answers for an older route are dropped */
    };

    /* ---- words ---------------------------------------------------------- */

    function pickLang() {
        var saved = null;
        try {
            saved = window.localStorage.getItem('cg.lang');
        } catch (e) {
            saved = null;
        }
        if (saved === 'vi' || saved === 'en') return saved;
        var nav = (navigator.languages && navigator.languages[0]) || navigator.language || '';
        return /^vi/i.test(nav) ? 'vi' : 'en';
    }

    /* t(KEY, ARGS...): the label in the current language, {0} {1}… replaced
     * by ARGS as text; a missing key shows itself (and the test of i18n.js
     * lists it). */
    function t(key) {
        var table = I18N[state.lang] || {};
        var s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
        var args = Array.prototype.slice.call(arguments, 1);
        return s.replace(/\{(\d+)\}/g, function (m, i) {
            return i < args.length ? String(args[i]) : m;
        });
    }

    /* ---- DOM ------------------------------------------------------------ */

    /* el(TAG, ATTRS, CHILDREN...): an element; ATTRS' keys are attributes
     * except 'text' (textContent), 'on' ({event: fn}) and 'props' (set as
     * properties); a string child is a text node, null is skipped. */
    function el(tag, attrs) {
        var e = document.createElement(tag);
        setAttrs(e, attrs);
        for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
        return e;
    }

    function setAttrs(e, attrs) {
        if (!attrs) return;
        Object.keys(attrs).forEach(function (k) {
            var v = attrs[k];
            if (v === null || v === undefined || v === false) return;
            if (k === 'text') e.textContent = String(v);
            else if (k === 'on') Object.keys(v).forEach(function (ev) {
                e.addEventListener(ev, v[ev]);
            });
            else if (k === 'props') Object.keys(v).forEach(function (p) {
                e[p] = v[p];
            });
            else e.setAttribute(k, v === true ? '' : String(v));
        });
    }

    function append(parent, c) {
        if (c === null || c === undefined || c === false) return;
        if (Array.isArray(c)) {
            c.forEach(function (x) {
                append(parent, x);
            });
        } else if (typeof c === 'string' || typeof c === 'number') {
            parent.appendChild(document.createTextNode(String(c)));
        } else {
            parent.appendChild(c);
        }
    }

    var SVGNS = 'http://www.w3.org/2000/svg';
    function svg(tag, attrs) {
        var e = document.createElementNS(SVGNS, tag);
        Object.keys(attrs || {}).forEach(function (k) {
            e.setAttribute(k, String(attrs[k]));
        });
        for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
        return e;
    }

    function clear(e) {
        while (e.firstChild) e.removeChild(e.firstChild);
        return e;
    }

    function $(id) {
        return document.getElementById(id);
    }

    /* num(V): V as a non-negative integer, or null: the only way an id
     * from the server gets into a link */
    function num(v) {
        if (typeof v === 'number' && isFinite(v) && v >= 0 && Math.floor(v) === v) return v;
        if (typeof v === 'string' && /^[0-9]{1,16}$/.test(v)) return Number(v);
        return null;
    }

    function str(v) {
        if (v === null || v === undefined) return '';
        return String(v);
    }

    /* a time as the server writes it (ISO 8601), shortened to the second
     * for tables; the whole of it in the title */
    function shortTime(s) {
        s = str(s);
        var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(s);
        return m ? m[1] + ' ' + m[2] : s;
    }

    function timeCell(s) {
        return el('td', { class: 'time', title: str(s), text: shortTime(s) });
    }

    function sevName(n) {
        return SEVERITIES[n] || str(n);
    }

    function sevLabel(n) {
        return t('sev.' + sevName(n));
    }

    function statusLabel(s) {
        return Object.prototype.hasOwnProperty.call(I18N[state.lang] || {}, 'status.' + s)
            ? t('status.' + s) : str(s);
    }

    function incidentLink(id, label) {
        var n = num(id);
        if (n === null) return el('span', { text: label === undefined ? str(id) : label });
        return el('a', { href: '#/incident/' + n, text: label === undefined ? String(n) : label });
    }

    function caseLink(id, label) {
        var n = num(id);
        if (n === null) return el('span', { text: label === undefined ? str(id) : label });
        return el('a', { href: '#/case/' + n, text: label === undefined ? String(n) : label });
    }

    function hasRole(r) {
        return !!state.me && (ROLES[state.me.role] || 0) >= ROLES[r];
    }

    /* ---- the API -------------------------------------------------------- */

    function ApiError(status, body, fallback) {
        this.status = status;
        this.code = (body && body.code) || '';
        this.column = body && num(body.column);
        this.message = (body && typeof body.error === 'string' && body.error) || fallback;
    }

    /* api(METHOD, PATH, BODY, OPTS): the parsed JSON answer (or the Response
     * when OPTS.raw); rejects with an ApiError. BODY: an object (sent as
     * JSON), a Blob (sent as octet-stream) or undefined. A 401 on any call
     * but the login forgets the session and sends to #/login. */
    function api(method, path, body, opts) {
        opts = opts || {};
        var headers = { Accept: 'application/json' };
        var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
        if (method !== 'GET' && state.me && state.me.csrf) headers['X-CSRF-Token'] = state.me.csrf;
        if (body instanceof Blob) {
            headers['Content-Type'] = 'application/octet-stream';
            init.body = body;
        } else if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        return fetch(path, init).then(function (resp) {
            if (resp.ok && opts.raw) return resp;
            if (resp.status === 204) return null;
            return resp.text().then(function (text) {
                var data = null;
                try {
                    data = text ? JSON.parse(text) : null;
                } catch (e) {
                    data = null;
                }
                if (resp.ok) {
                    if (data === null && text) throw new ApiError(resp.status, null, t('err.badjson'));
                    return data;
                }
                var err = new ApiError(resp.status, data, t('err.status', resp.status));
                if (resp.status === 401 && !opts.noAuthRedirect) loggedOut();
                throw err;
            });
        }, function () {
            throw new ApiError(0, null, t('err.network'));
        });
    }

    function errorBox(err) {
        var msg = err instanceof ApiError ? err.message : str(err && err.message ? err.message : err);
        var extra = '';
        if (err instanceof ApiError && err.status === 403) extra = ' (' + t('err.forbidden') + ')';
        return el('p', { class: 'error', role: 'alert', text: msg + extra });
    }

    /* download(RESP, NAME): hands a fetched file to the browser */
    function download(resp, fallbackName) {
        var name = fallbackName;
        var cd = resp.headers.get('Content-Disposition') || '';
        var m = /filename="?([A-Za-z0-9._-]+)"?/.exec(cd);
        if (m) name = m[1];
        return resp.blob().then(function (blob) {
            var url = URL.createObjectURL(blob);
            var a = el('a', { href: url, download: name, hidden: true });
            document.body.appendChild(a);
            a.click();
            setTimeout(function () {
                URL.revokeObjectURL(url);
                a.remove();
            }, 1000);
            return { name: name, size: blob.size };
        });
    }

    /* ---- session -------------------------------------------------------- */

    function loggedOut() {
        state.me = null;
        stopPolling();
        renderHeader();
        var h = location.hash || '#/';
        if (!/^#\/login/.test(h)) location.hash = '#/login?next=' + encodeURIComponent(h);
    }

    function ensureMe() {
        if (state.me) return Promise.resolve(state.me);
        return api('GET', '/api/me', undefined, { noAuthRedirect: true }).then(function (me) {
            state.me = me;
            renderHeader();
            startPolling();
            return me;
        });
    }

    /* ---- header, banner, polling ---------------------------------------- */

    var NAV = [
        ['#/', 'nav.dashboard', null],
        ['#/query', 'nav.query', null],
        ['#/cases', 'nav.cases', null],
        ['#/reports', 'nav.reports', null],
        ['#/audit', 'nav.audit', 'admin']
    ];

    function renderHeader() {
        document.documentElement.lang = state.lang;
        document.title = t('app.title');
        $('lang').value = state.lang;
        $('lang-label').textContent = t('lang.label');
        var nav = clear($('nav'));
        var who = clear($('who'));
        var out = $('logout');
        out.textContent = t('logout');
        out.hidden = !state.me;
        renderBanner();
        if (!state.me) return;
        var cur = routeOf(location.hash).name;
        NAV.forEach(function (n) {
            if (n[2] && !hasRole(n[2])) return;
            var name = routeOf(n[0]).name;
            nav.appendChild(el('a', {
                href: n[0], text: t(n[1]), 'aria-current': name === cur ? 'page' : null
            }));
        });
        who.appendChild(el('span', { class: 'user', text: state.me.user }));
        who.appendChild(el('span', { class: 'role', text: t('role.' + state.me.role) }));
    }

    function startPolling() {
        stopPolling();
        state.pollTimer = setInterval(poll, POLL_MS);
    }

    function stopPolling() {
        if (state.pollTimer) clearInterval(state.pollTimer);
        state.pollTimer = null;
        state.fresh = [];
        state.latest = null;
        renderBanner();
    }

    function poll() {
        if (!state.me || document.hidden) return;
        /* before the newest id is known, the largest id asks only for it */
        var path = '/api/since?id=' + (state.latest === null ? MAX_ID : state.latest);
        api('GET', path).then(function (d) {
            if (!d) return;
            var incs = Array.isArray(d.incidents) ? d.incidents : [];
            if (state.latest !== null && incs.length) {
                var known = {};
                state.fresh.forEach(function (x) {
                    known[x.incident_id] = 1;
                });
                incs = incs.filter(function (x) {
                    return num(x.incident_id) !== null && !known[x.incident_id];
                });
                /* newest first, whatever order the server keeps */
                state.fresh = incs.concat(state.fresh).sort(function (a, b) {
                    return b.incident_id - a.incident_id;
                }).slice(0, 100);
                renderBanner();
                var list = $('dash-new');
                if (list) fillNewList(list);
            }
            var l = num(d.latest_id);
            if (l !== null && (state.latest === null || l > state.latest)) state.latest = l;
        }, function () {
            /* a poll that fails says nothing: the next one tries again */
        });
    }

    function renderBanner() {
        var b = clear($('banner'));
        if (!state.fresh.length) {
            b.hidden = true;
            return;
        }
        b.hidden = false;
        b.appendChild(el('strong', { id: 'new-count', text: t('new.count', state.fresh.length) }));
        var ul = el('ul', { class: 'newlist' });
        state.fresh.slice(0, 5).forEach(function (inc) {
            ul.appendChild(el('li', null, incidentLink(inc.incident_id, '#' + str(inc.incident_id)), ' ',
                el('span', { class: 'sev sev' + str(inc.severity), text: sevLabel(inc.severity) }), ' ',
                el('span', { text: str(inc.signature) })));
        });
        b.appendChild(ul);
        b.appendChild(el('button', {
            type: 'button', text: t('new.dismiss'), on: {
                click: function () {
                    state.fresh = [];
                    renderBanner();
                    var list = $('dash-new');
                    if (list) fillNewList(list);
                }
            }
        }));
    }

    /* ---- routes --------------------------------------------------------- */

    /* routeOf(HASH): {name, id, params} */
    function routeOf(hash) {
        var h = (hash || '').replace(/^#/, '');
        if (h === '') h = '/';
        var qi = h.indexOf('?');
        var path = qi < 0 ? h : h.slice(0, qi);
        var params = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1));
        var m;
        if (path === '/' || path === '') return { name: 'dashboard', params: params };
        if (path === '/login') return { name: 'login', params: params };
        if (path === '/query') return { name: 'query', params: params };
        if (path === '/cases') return { name: 'cases', params: params };
        if (path === '/reports') return { name: 'reports', params: params };
        if (path === '/audit') return { name: 'audit', params: params };
        if ((m = /^\/incident\/([0-9]{1,16})$/.exec(path))) return { name: 'incident', id: Number(m[1]), params: params };
        if ((m = /^\/case\/([0-9]{1,16})$/.exec(path))) return { name: 'case', id: Number(m[1]), params: params };
        return { name: 'notfound', params: params };
    }

    var PAGES = {};

    function route() {
        var r = routeOf(location.hash);
        var my = ++state.seq;
        var view = $('view');
        if (r.name === 'login') {
            renderHeader();
            clear(view);
            PAGES.login(view, r);
            return;
        }
        ensureMe().then(function () {
            if (my !== state.seq) return;
            renderHeader();
            clear(view);
            view.setAttribute('data-page', r.name);
            PAGES[r.name](view, r, function () {
                return my === state.seq;
            });
        }, function (err) {
            if (my !== state.seq) return;
            if (err.status === 401 || err.status === 0 || err.status === 403) {
                loggedOut();
                return;
            }
            clear(view).appendChild(errorBox(err));
        });
    }

    function pageTitle(text) {
        document.title = text + ' — ' + t('app.title');
        return el('h1', { text: text });
    }

    function section(title, id) {
        var s = el('section', { class: 'card', id: id || null });
        if (title) s.appendChild(el('h2', { text: title }));
        return s;
    }

    function loading() {
        return el('p', { class: 'loading', text: t('loading') });
    }

    /* ---- login ---------------------------------------------------------- */

    PAGES.login = function (view, r) {
        view.setAttribute('data-page', 'login');
        var next = r.params.get('next') || '#/';
        if (!/^#\//.test(next) || /^#\/login/.test(next)) next = '#/';
        var msg = el('div', { id: 'login-msg' });
        var user = el('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
        var pass = el('input', {
            id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true
        });
        var form = el('form', { id: 'login-form', class: 'card narrow' },
            pageTitle(t('login.title')),
            el('label', { for: 'login-user', text: t('login.user') }), user,
            el('label', { for: 'login-pass', text: t('login.password') }), pass,
            el('button', { type: 'submit', id: 'login-submit', text: t('login.submit') }), msg);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(msg);
            api('POST', '/api/login', { user: user.value, password: pass.value }, { noAuthRedirect: true })
                .then(function (d) {
                    state.me = { user: d.user, role: d.role, csrf: d.csrf };
                    pass.value = '';
                    startPolling();
                    renderHeader();
                    location.hash = next;
                }, function (err) {
                    var text = err.status === 401 ? t('login.wrong') : err.message;
                    msg.appendChild(el('p', { class: 'error', role: 'alert', text: text }));
                    pass.select();
                });
        });
        view.appendChild(form);
        user.focus();
    };

    /* ---- dashboard ------------------------------------------------------ */

    function kvTable(id, rows, headers) {
        var tb = el('tbody');
        rows.forEach(function (r) {
            tb.appendChild(el('tr', null, r.map(function (c) {
                return c instanceof Node ? el('td', null, c) : el('td', { text: str(c) });
            })));
        });
        return el('table', { id: id, class: 'grid small' },
            el('thead', null, el('tr', null, headers.map(function (h) {
                return el('th', { scope: 'col', text: h });
            }))), tb);
    }

    function hourChart(perHour) {
        var W = 1200, H = 170, padL = 34, padB = 22, padT = 10;
        var data = Array.isArray(perHour) ? perHour : [];
        var max = 0;
        data.forEach(function (p) {
            max = Math.max(max, Number(p.n) || 0);
        });
        var top = max > 0 ? max : 1;
        var bw = data.length ? (W - padL) / data.length : 0;
        var g = svg('svg', {
            viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', id: 'dash-chart',
            'aria-label': t('dash.per_hour')
        });
        g.appendChild(svg('line', { x1: padL, y1: H - padB, x2: W, y2: H - padB, class: 'axis' }));
        if (max === 0) {
            g.appendChild(svg('text', { x: (W + padL) / 2, y: (H - padB) / 2, class: 'empty', 'text-anchor': 'middle' },
                t('dash.no_hours')));
        }
        if (max > 0) g.appendChild(svg('text', { x: padL - 4, y: padT + 8, class: 'tick', 'text-anchor': 'end' }, String(max)));
        g.appendChild(svg('text', { x: padL - 4, y: H - padB, class: 'tick', 'text-anchor': 'end' }, '0'));
        data.forEach(function (p, i) {
            var n = Number(p.n) || 0;
            var h = Math.round((H - padB - padT) * n / top);
            var x = padL + i * bw + 1;
            var bar = svg('rect', {
                x: x.toFixed(1), y: H - padB - h, width: Math.max(bw - 2, 1).toFixed(1), height: h,
                class: 'bar', 'data-n': n
            });
            bar.appendChild(svg('title', null, shortTime(p.t) + ' — ' + t('dash.n_incidents', n)));
            g.appendChild(bar);
            var hh = /T(\d{2})/.exec(str(p.t));
            if (hh && i % 3 === 0) {
                g.appendChild(svg('text', { x: (x + bw / 2).toFixed(1), y: H - 6, class: 'tick', 'text-anchor': 'middle' },
                    hh[1] + 'h'));
            }
        });
        return g;
    }

    function fillNewList(list) {
        clear(list);
        if (!state.fresh.length) {
            list.appendChild(el('li', { class: 'muted', text: t('dash.no_new') }));
            return;
        }
        state.fresh.slice(0, 20).forEach(function (inc) {
            list.appendChild(el('li', null, incidentLink(inc.incident_id, '#' + str(inc.incident_id)), ' ',
                el('span', { class: 'time', text: shortTime(inc.first_seen) }), ' ',
                el('span', { class: 'sev sev' + str(inc.severity), text: sevLabel(inc.severity) }), ' ',
                el('span', { text: str(inc.signature) }), ' ',
                el('span', { class: 'mono', text: str(inc.src_ip) + ' → ' + str(inc.dest_ip) })));
        });
    }

    function flatten(obj, prefix, out) {
        Object.keys(obj).forEach(function (k) {
            var v = obj[k];
            var key = prefix ? prefix + '.' + k : k;
            if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
            else out.push([key, Array.isArray(v) ? v.join(', ') : str(v)]);
        });
        return out;
    }

    PAGES.dashboard = function (view, r, alive) {
        view.appendChild(pageTitle(t('dash.title')));
        var body = el('div', { class: 'dash' }, loading());
        view.appendChild(body);
        api('GET', '/api/dashboard').then(function (d) {
            if (!alive()) return;
            clear(body);
            var l = num(d.latest_id);
            if (l !== null && (state.latest === null || l > state.latest)) state.latest = l;
            var open = d.open || {};
            var bySev = open.by_severity || {};
            var byLayer = open.by_layer || {};
            var openTotal = 0;
            Object.keys(bySev).forEach(function (k) {
                openTotal += Number(bySev[k]) || 0;
            });
            body.appendChild(el('div', { class: 'figures' },
                el('div', { class: 'figure' }, el('span', { class: 'label', text: t('dash.total') }),
                    el('span', { class: 'value', id: 'dash-total', text: str(d.total) })),
                el('div', { class: 'figure' }, el('span', { class: 'label', text: t('dash.open') }),
                    el('span', { class: 'value', id: 'dash-open', text: String(openTotal) })),
                el('div', { class: 'figure' }, el('span', { class: 'label', text: t('dash.latest') }),
                    el('span', { class: 'value' }, l === null ? '—' : incidentLink(l, '#' + l))),
                el('div', { class: 'figure' }, el('span', { class: 'label', text: t('dash.generated') }),
                    el('span', { class: 'value small', text: shortTime(d.generated) }))));

            var chart = section(t('dash.per_hour'), 'sec-chart');
            chart.appendChild(hourChart(d.per_hour));
            body.appendChild(chart);

            var news = section(t('dash.new'), 'sec-new');
            var list = el('ul', { id: 'dash-new', class: 'newlist' });
            fillNewList(list);
            news.appendChild(list);
            body.appendChild(news);

            var sev = section(t('dash.open_by_sev'), 'sec-sev');
            sev.appendChild(kvTable('dash-sev', [1, 2, 3, 4].map(function (s) {
                return [el('span', { class: 'sev sev' + s, text: sevLabel(s) }),
                    str(bySev[s] === undefined ? 0 : bySev[s])];
            }), [t('col.severity'), t('col.n')]));
            body.appendChild(sev);

            var lay = section(t('dash.open_by_layer'), 'sec-layer');
            lay.appendChild(kvTable('dash-layer', [1, 2, 3, 4].map(function (k) {
                return [t('layer.' + k), str(byLayer[k] === undefined ? 0 : byLayer[k])];
            }), [t('col.layer'), t('col.n')]));
            body.appendChild(lay);

            var sigs = section(t('dash.top_sigs'), 'sec-sigs');
            sigs.appendChild(kvTable('dash-sigs', (d.top_signatures || []).map(function (s) {
                var sid = num(s.sid);
                var sidCell = sid === null ? str(s.sid)
                    : el('a', { href: '#/query?q=' + encodeURIComponent('sid = ' + sid), text: String(sid) });
                return [sidCell, str(s.msg), str(s.n)];
            }), [t('col.sid'), t('col.signature'), t('col.n')]));
            body.appendChild(sigs);

            var srcs = section(t('dash.top_sources'), 'sec-sources');
            srcs.appendChild(kvTable('dash-sources', (d.top_sources || []).map(function (s) {
                var asn = num(s.asn);
                return [el('span', { class: 'mono', text: str(s.ip) }), str(s.country) || '—',
                    asn ? 'AS' + asn : '—', str(s.n)];
            }), [t('col.source'), t('col.country'), t('col.asn'), t('col.n')]));
            body.appendChild(srcs);

            var ctry = section(t('dash.top_countries'), 'sec-countries');
            ctry.appendChild(kvTable('dash-countries', (d.top_countries || []).map(function (c) {
                return [str(c.country) || t('dash.unknown_country'), str(c.n)];
            }), [t('col.country'), t('col.n')]));
            body.appendChild(ctry);

            if (d.sensors !== null && d.sensors !== undefined && typeof d.sensors === 'object') {
                var sens = section(t('dash.sensors'), 'sec-sensors');
                sens.appendChild(kvTable('dash-sensors', flatten(d.sensors, '', []), [t('col.counter'), t('col.value')]));
                body.appendChild(sens);
            }
        }, function (err) {
            if (!alive()) return;
            clear(body).appendChild(errorBox(err));
        });
    };

    /* ---- incident tables (query, case) ---------------------------------- */

    function layersText(ls) {
        return Array.isArray(ls) ? ls.join(',') : str(ls);
    }

    function endpoint(ip, port) {
        var p = num(port);
        var a = str(ip);
        if (a.indexOf(':') >= 0) a = '[' + a + ']';
        return p === null || p === 0 ? a : a + ':' + p;
    }

    function incidentRow(inc) {
        var id = num(inc.incident_id);
        var tr = el('tr', { tabindex: '0', class: 'row', 'data-id': id === null ? null : String(id) },
            el('td', { class: 'num' }, incidentLink(inc.incident_id)),
            timeCell(inc.first_seen),
            el('td', { class: 'nowrap' }, el('span', { class: 'sev sev' + str(inc.severity), text: sevLabel(inc.severity) })),
            el('td', { class: 'sig', text: str(inc.signature) }),
            el('td', { class: 'mono', text: endpoint(inc.src_ip, inc.src_port) }),
            el('td', { class: 'mono', text: endpoint(inc.dest_ip, inc.dest_port) }),
            el('td', { class: 'nowrap', text: statusLabel(inc.status) }),
            el('td', { class: 'nowrap', text: layersText(inc.layers) }));
        tr.addEventListener('click', function (ev) {
            if (ev.target.tagName !== 'A' && id !== null) location.hash = '#/incident/' + id;
        });
        tr.addEventListener('keydown', function (ev) {
            if (ev.key === 'Enter' && id !== null) location.hash = '#/incident/' + id;
        });
        return tr;
    }

    function incidentTable(id, timeHeader) {
        var cols = ['col.id', 'col.time', 'col.severity', 'col.signature', 'col.source', 'col.destination',
            'col.status', 'col.layer'];
        var head = el('tr', null, cols.map(function (c, i) {
            if (i === 1 && timeHeader) return el('th', { scope: 'col' }, timeHeader);
            return el('th', { scope: 'col', text: t(c) });
        }));
        return el('table', { id: id, class: 'grid incidents' }, el('thead', null, head), el('tbody'));
    }

    /* ---- query ---------------------------------------------------------- */

    /* the query's error with a caret under the column the server names */
    function queryError(q, err) {
        var box = el('div', { id: 'query-error', class: 'error', role: 'alert' });
        if (err.code === 'bad-query' && err.column) {
            var col = Math.max(1, Math.min(err.column, q.length + 1));
            box.appendChild(el('pre', { class: 'caret' }, el('span', { class: 'qline', text: q }), '\n',
                el('span', { class: 'qcaret', text: ' '.repeat(col - 1) + '^' })));
        }
        box.appendChild(el('p', { text: err.message }));
        return box;
    }

    PAGES.query = function (view, r, alive) {
        var q = r.params.has('q') ? r.params.get('q') : state.lastQuery;
        var order = r.params.get('order') === 'asc' ? 'asc' : 'desc';
        state.lastQuery = q;
        view.appendChild(pageTitle(t('query.title')));
        var input = el('input', {
            id: 'q', type: 'search', class: 'mono', spellcheck: 'false', autocomplete: 'off',
            placeholder: t('query.placeholder'), 'aria-label': t('query.label'), props: { value: q }
        });
        var form = el('form', { id: 'query-form', class: 'queryform' }, input,
            el('button', { type: 'submit', id: 'query-run', text: t('query.run') }));
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var target = '#/query?q=' + encodeURIComponent(input.value) + (order === 'asc' ? '&order=asc' : '');
            if (location.hash === target) route();
            else location.hash = target;
        });
        view.appendChild(form);
        view.appendChild(el('p', { class: 'hint', text: t('query.hint') }));
        var out = el('div', { id: 'query-out' });
        view.appendChild(out);

        var sortBtn = el('button', {
            type: 'button', class: 'linkish', id: 'sort-time',
            'aria-label': t('query.sort'), text: t('col.time') + (order === 'asc' ? ' ▲' : ' ▼'),
            on: {
                click: function () {
                    location.hash = '#/query?q=' + encodeURIComponent(q) + (order === 'asc' ? '' : '&order=asc');
                }
            }
        });
        var table = incidentTable('results', sortBtn);
        var tbody = table.querySelector('tbody');
        var count = el('p', { id: 'query-count', class: 'muted' });
        var more = el('button', { type: 'button', id: 'query-more', text: t('query.more'), hidden: true });
        var shown = 0;
        var cursor = null;

        function page() {
            var path = '/api/incidents?q=' + encodeURIComponent(q) + '&limit=50&order=' + order +
                (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
            more.disabled = true;
            return api('GET', path).then(function (d) {
                if (!alive()) return;
                var incs = Array.isArray(d.incidents) ? d.incidents : [];
                incs.forEach(function (inc) {
                    tbody.appendChild(incidentRow(inc));
                });
                shown += incs.length;
                cursor = d.next === null || d.next === undefined ? null : String(d.next);
                more.hidden = !cursor;
                more.disabled = false;
                clear(count);
                if (num(d.count) !== null) count.appendChild(document.createTextNode(t('query.count', shown, d.count)));
                else count.appendChild(document.createTextNode(t('query.shown', shown)));
                if (!shown) tbody.appendChild(el('tr', null, el('td', { colspan: '8', class: 'muted', text: t('query.none') })));
            });
        }
        more.addEventListener('click', function () {
            page().catch(function (err) {
                out.appendChild(errorBox(err));
            });
        });
        out.appendChild(loading());
        page().then(function () {
            if (!alive()) return;
            clear(out);
            out.appendChild(count);
            out.appendChild(table);
            out.appendChild(more);
            if (hasRole('responder')) out.appendChild(newCaseForm(q));
        }, function (err) {
            if (!alive()) return;
            clear(out).appendChild(err instanceof ApiError ? queryError(q, err) : errorBox(err));
        });
        if (r.params.get('focus') === '1' || !q) input.focus();
    };

    function newCaseForm(q) {
        var title = el('input', { id: 'case-title', required: true, maxlength: '200', 'aria-label': t('case.title_label') });
        var msg = el('div');
        var form = el('form', { id: 'case-new', class: 'inline card' },
            el('h2', { text: t('case.new_from_query') }),
            el('p', { class: 'mono small', text: q || t('query.everything') }),
            el('label', { for: 'case-title', text: t('case.title_label') }), title,
            el('button', { type: 'submit', text: t('case.create') }), msg);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(msg);
            api('POST', '/api/cases', { title: title.value, q: q }).then(function (c) {
                var id = num(c && (c.case_id !== undefined ? c.case_id : c.case && c.case.case_id));
                location.hash = id === null ? '#/cases' : '#/case/' + id;
            }, function (err) {
                msg.appendChild(errorBox(err));
            });
        });
        return form;
    }

    /* ---- incident ------------------------------------------------------- */

    function b64bytes(s) {
        try {
            var bin = atob(str(s));
            var out = new Uint8Array(bin.length);
            for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
            return out;
        } catch (e) {
            return new Uint8Array(0);
        }
    }

    function printable(b) {
        return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }

    /* the payload excerpt as `incident show` prints it: 16 bytes a line,
     * offset, hex, text; the byte where the match starts is marked */
    function hexDump(bytes, match) {
        var pre = el('pre', { class: 'hex', id: 'payload-hex' });
        for (var off = 0; off < bytes.length; off += 16) {
            append(pre, ('0000' + off.toString(16)).slice(-4) + '  ');
            var text = '';
            for (var i = 0; i < 16; i++) {
                var k = off + i;
                if (i === 8) append(pre, ' ');
                if (k < bytes.length) {
                    var hx = ('0' + bytes[k].toString(16)).slice(-2);
                    if (k === match) append(pre, el('mark', { text: hx }));
                    else append(pre, hx);
                    append(pre, ' ');
                    text += printable(bytes[k]);
                } else {
                    append(pre, '   ');
                }
            }
            append(pre, ' ' + text + '\n');
        }
        return pre;
    }

    function textDump(bytes) {
        var s = '';
        for (var i = 0; i < bytes.length; i++) {
            var b = bytes[i];
            s += b === 0x0a || b === 0x09 ? String.fromCharCode(b) : b === 0x0d ? '' : printable(b);
        }
        return el('pre', { class: 'payload-text', id: 'payload-text', text: s });
    }

    function fieldList(id, rows) {
        var dl = el('dl', { id: id, class: 'fields' });
        rows.forEach(function (r) {
            if (r === null) return;
            dl.appendChild(el('dt', { text: r[0] }));
            dl.appendChild(r[1] instanceof Node ? el('dd', null, r[1]) : el('dd', { text: str(r[1]) || '—' }));
        });
        return dl;
    }

    function geoRows(g) {
        g = g || {};
        var asn = num(g.asn);
        return [[t('geo.country'), g.country], [t('geo.city'), g.city],
            [t('geo.asn'), asn ? 'AS' + asn : ''], [t('geo.as_org'), g.as_org],
            [t('geo.agency'), g.agency], [t('geo.zone'), g.zone]];
    }

    function historyWhat(h) {
        if (h.field === 'note' || h.what === 'note') return t('hist.note') + ': ' + str(h.text);
        var f = str(h.field || h.what);
        if (h.old !== undefined || h.new !== undefined) return f + ': ' + str(h.old) + ' → ' + str(h.new);
        if (h.text !== undefined) return f + ': ' + str(h.text);
        if (h.incident_id !== undefined) return [f + ' ', incidentLink(h.incident_id, '#' + str(h.incident_id))];
        var rest = flatten(h, '', []).filter(function (kv) {
            return ['seq', 'when', 'who', 'field', 'what'].indexOf(kv[0]) < 0;
        }).map(function (kv) {
            return kv[0] + '=' + kv[1];
        });
        return f + (rest.length ? ' ' + rest.join(' ') : '');
    }

    function historyTable(id, hist) {
        var tb = el('tbody');
        (hist || []).forEach(function (h) {
            tb.appendChild(el('tr', null, timeCell(h.when), el('td', { class: 'who', text: str(h.who) }),
                el('td', { class: 'what' }, historyWhat(h))));
        });
        if (!(hist || []).length) tb.appendChild(el('tr', null, el('td', { colspan: '3', class: 'muted', text: t('none') })));
        return el('table', { id: id, class: 'grid small' }, el('thead', null, el('tr', null,
            el('th', { scope: 'col', text: t('col.when') }), el('th', { scope: 'col', text: t('col.who') }),
            el('th', { scope: 'col', text: t('col.what') }))), tb);
    }

    function triageForm(inc, reload) {
        var id = num(inc.incident_id);
        var status = el('select', { id: 'triage-status' }, STATUSES.map(function (s) {
            return el('option', { value: s, text: statusLabel(s), selected: s === inc.status });
        }));
        var assignee = el('input', { id: 'triage-assignee', maxlength: '64', props: { value: str(inc.assignee) } });
        var sev = el('select', { id: 'triage-severity' }, [1, 2, 3, 4].map(function (s) {
            return el('option', { value: sevName(s), text: sevLabel(s), selected: s === inc.severity });
        }));
        var msg = el('div', { class: 'msg' });
        var form = el('form', { id: 'triage-form', class: 'card' }, el('h2', { text: t('inc.triage') }),
            el('div', { class: 'row3' },
                el('label', null, t('col.status'), status),
                el('label', null, t('inc.assignee'), assignee),
                el('label', null, t('col.severity'), sev)),
            el('button', { type: 'submit', id: 'triage-save', text: t('inc.save') }), msg);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(msg);
            var body = {};
            if (status.value !== inc.status) body.status = status.value;
            if (assignee.value !== str(inc.assignee)) body.assignee = assignee.value;
            if (sev.value !== sevName(inc.severity)) body.severity = sev.value;
            if (!Object.keys(body).length) {
                msg.appendChild(el('p', { class: 'muted', text: t('inc.nochange') }));
                return;
            }
            api('POST', '/api/incidents/' + id + '/triage', body).then(function () {
                reload(t('inc.saved'));
            }, function (err) {
                msg.appendChild(errorBox(err));
            });
        });
        return form;
    }

    function noteForm(path, reload, idPrefix) {
        var text = el('textarea', { id: idPrefix + '-text', rows: '3', maxlength: '4000', required: true });
        var msg = el('div', { class: 'msg' });
        var form = el('form', { id: idPrefix + '-form', class: 'card' },
            el('h2', { text: t('note.add') }), el('label', { for: idPrefix + '-text', text: t('note.text') }), text,
            el('button', { type: 'submit', id: idPrefix + '-save', text: t('note.save') }), msg);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(msg);
            api('POST', path, { text: text.value }).then(function () {
                reload(t('note.saved'));
            }, function (err) {
                msg.appendChild(errorBox(err));
            });
        });
        return form;
    }

    PAGES.incident = function (view, r, alive) {
        var id = r.id;
        view.appendChild(pageTitle(t('inc.title', id)));
        var body = el('div', { id: 'incident' }, loading());
        view.appendChild(body);
        function reload(flash) {
            return api('GET', '/api/incidents/' + id).then(function (d) {
                if (!alive()) return;
                clear(body);
                renderIncident(body, d, reload);
                if (flash) body.insertBefore(el('p', { class: 'ok', role: 'status', id: 'flash', text: flash }), body.firstChild);
            }, function (err) {
                if (!alive()) return;
                clear(body).appendChild(errorBox(err));
            });
        }
        reload();
    };

    function renderIncident(body, d, reload) {
        var inc = d.incident || d;
        var id = num(inc.incident_id);
        body.appendChild(el('h2', { class: 'sigtitle', id: 'inc-signature', text: str(inc.signature) }));
        var esc = num(inc.escalated_from);
        var attack = num(inc.attack_id);
        var top = el('div', { class: 'cols' });
        top.appendChild(el('section', { class: 'card' }, el('h2', { text: t('inc.fields') }), fieldList('inc-fields', [
            [t('col.status'), el('span', { id: 'inc-status', text: statusLabel(inc.status) })],
            [t('col.severity'), el('span', { class: 'sev sev' + str(inc.severity), text: sevLabel(inc.severity) +
                (inc.severity_set ? ' (' + t('inc.sev_set', sevLabel(inc.rule_severity)) + ')' : '') })],
            [t('inc.assignee'), el('span', { id: 'inc-assignee', text: str(inc.assignee) || '—' })],
            [t('inc.signature'), str(inc.gid) + ':' + str(inc.signature_id) + ' rev ' + str(inc.rev)],
            [t('inc.classtype'), inc.classtype],
            [t('inc.first_seen'), inc.first_seen],
            [t('inc.last_seen'), inc.last_seen],
            [t('inc.count'), t('inc.count_val', str(inc.count), str(inc.alerts_stored))],
            [t('col.source'), el('span', { class: 'mono', text: endpoint(inc.src_ip, inc.src_port) })],
            [t('col.destination'), el('span', { class: 'mono', text: endpoint(inc.dest_ip, inc.dest_port) })],
            [t('inc.flow'), str(inc.proto) + ', flow ' + str(inc.flow_id) + ', community_id ' + str(inc.community_id)],
            [t('col.layer'), layersText(inc.layers)],
            attack ? [t('inc.attack'), el('a', {
                href: '#/query?q=' + encodeURIComponent('attack = ' + attack), text: String(attack)
            })] : null,
            esc ? [t('inc.escalated_from'), incidentLink(esc, '#' + esc)] : null,
            [t('inc.app_proto'), inc.app_proto],
            inc.geo_db_type ? [t('inc.geo_db'), str(inc.geo_db_type) + ' ' + str(inc.geo_db_date)] : null
        ])));

        /* enrichment: one row per field, the source's and the destination's
         * side by side */
        var sg = geoRows(inc.src_geo), dg = geoRows(inc.dest_geo);
        var enrTb = el('tbody');
        sg.forEach(function (row, i) {
            enrTb.appendChild(el('tr', null, el('th', { scope: 'row', text: row[0] }),
                el('td', { class: 'wrap', text: str(row[1]) || '—' }),
                el('td', { class: 'wrap', text: str(dg[i][1]) || '—' })));
        });
        var right = el('div');
        right.appendChild(el('section', { class: 'card', id: 'inc-enrich' }, el('h2', { text: t('inc.enrichment') }),
            el('table', { class: 'grid small', id: 'inc-geo' }, el('thead', null, el('tr', null, el('th'),
                el('th', { scope: 'col', text: t('col.source') }), el('th', { scope: 'col', text: t('col.destination') }))),
            enrTb)));
        if (hasRole('analyst')) right.appendChild(triageForm(inc, reload));
        top.appendChild(right);
        body.appendChild(top);

        var ctx = [];
        if (inc.http) {
            ctx.push([t('ctx.http_method'), inc.http.http_method]);
            ctx.push([t('ctx.http_host'), inc.http.hostname]);
            ctx.push([t('ctx.http_url'), el('span', { class: 'mono', id: 'ctx-url', text: str(inc.http.url) })]);
            ctx.push([t('ctx.http_ua'), el('span', { id: 'ctx-ua', text: str(inc.http.http_user_agent) })]);
            if (inc.http.status) ctx.push([t('ctx.http_status'), inc.http.status]);
        }
        if (inc.dns) ctx.push([t('ctx.dns_query'), el('span', { class: 'mono', text: str(inc.dns.rrname) })]);
        if (inc.tls) {
            ctx.push([t('ctx.tls_sni'), el('span', { class: 'mono', text: str(inc.tls.sni) })]);
            if (inc.tls.ja3 && inc.tls.ja3.hash) ctx.push([t('ctx.tls_ja3'), inc.tls.ja3.hash]);
        }
        var ctxSec = el('section', { class: 'card', id: 'inc-context' }, el('h2', { text: t('inc.context') }));
        if (ctx.length) ctxSec.appendChild(fieldList('inc-ctx', ctx));
        else ctxSec.appendChild(el('p', { class: 'muted', text: t('none') }));
        if (inc.payload) {
            var bytes = b64bytes(inc.payload);
            var match = num(inc.payload_match);
            var holder = el('div', { id: 'payload' });
            var showHex = el('button', {
                type: 'button', id: 'payload-show-hex', 'aria-pressed': 'true', text: t('payload.hex')
            });
            var showText = el('button', {
                type: 'button', id: 'payload-show-text', 'aria-pressed': 'false', text: t('payload.text')
            });
            var show = function (hex) {
                clear(holder).appendChild(hex ? hexDump(bytes, match) : textDump(bytes));
                showHex.setAttribute('aria-pressed', hex ? 'true' : 'false');
                showText.setAttribute('aria-pressed', hex ? 'false' : 'true');
            };
            showHex.addEventListener('click', function () {
                show(true);
            });
            showText.addEventListener('click', function () {
                show(false);
            });
            ctxSec.appendChild(el('h3', null, t('payload.title', bytes.length, match === null ? '—' : match)));
            ctxSec.appendChild(el('div', { class: 'toggle' }, showHex, showText));
            ctxSec.appendChild(holder);
            show(true);
        }
        body.appendChild(ctxSec);

        var hist = section(t('inc.history'), 'sec-history');
        hist.appendChild(historyTable('inc-history', d.history));
        if (hasRole('analyst')) {
            var both = el('div', { class: 'cols' });
            both.appendChild(hist);
            both.appendChild(noteForm('/api/incidents/' + id + '/notes', reload, 'note'));
            body.appendChild(both);
        } else {
            body.appendChild(hist);
        }

        var ev = section(t('inc.evidence'), 'sec-evidence');
        if (id !== null) {
            ev.appendChild(el('p', null, el('a', {
                href: '/api/incidents/' + id + '/pcap', download: 'incident-' + id + '.pcap',
                id: 'pcap-link', class: 'button', text: t('inc.pcap')
            })));
        }
        var evTb = el('tbody');
        (d.evidence || []).forEach(function (p) {
            evTb.appendChild(el('tr', null, el('td', { class: 'num', text: '#' + str(p.seq) }), timeCell(p.timestamp),
                el('td', { class: 'num', text: str(p.caplen) }), el('td', { class: 'num', text: str(p.wirelen) }),
                el('td', { class: 'num', text: str(p.linktype) })));
        });
        ev.appendChild(el('table', { class: 'grid small', id: 'inc-evidence' }, el('thead', null, el('tr', null,
            ['#', t('col.time'), t('ev.caplen'), t('ev.wirelen'), t('ev.linktype')].map(function (h) {
                return el('th', { scope: 'col', text: h });
            }))), evTb));
        body.appendChild(ev);

        var al = section(t('inc.alerts'), 'sec-alerts');
        var alTb = el('tbody');
        (d.alerts || []).forEach(function (a) {
            alTb.appendChild(el('tr', null, el('td', { class: 'num', text: '#' + str(a.seq) }), timeCell(a.timestamp),
                el('td', { class: 'mono', text: str(a.src_port) + ' → ' + str(a.dest_port) }),
                el('td', { text: sevLabel(a.severity) }), el('td', { class: 'mono', text: str(a.flow_id) }),
                el('td', { text: a.evidence === undefined || a.evidence === null ? '—' : '#' + str(a.evidence) })));
        });
        al.appendChild(el('table', { class: 'grid small', id: 'inc-alerts' }, el('thead', null, el('tr', null,
            ['#', t('col.time'), t('al.ports'), t('col.severity'), t('al.flow'), t('inc.evidence')].map(function (h) {
                return el('th', { scope: 'col', text: h });
            }))), alTb));
        body.appendChild(al);

        if (Array.isArray(d.related)) {
            var rel = section(t('inc.related'), 'sec-related');
            if (!d.related.length) rel.appendChild(el('p', { class: 'muted', text: t('none') }));
            var ul = el('ul');
            d.related.forEach(function (x) {
                if (x !== null && typeof x === 'object') {
                    ul.appendChild(el('li', null, incidentLink(x.incident_id, '#' + str(x.incident_id)), ' ',
                        el('span', { text: str(x.signature) })));
                } else {
                    ul.appendChild(el('li', null, incidentLink(x, '#' + str(x))));
                }
            });
            rel.appendChild(ul);
            body.appendChild(rel);
        }
    }

    /* ---- cases ---------------------------------------------------------- */

    function verifyForm() {
        var file = el('input', { type: 'file', id: 'verify-file', accept: '.gz,.tgz,.tar,application/gzip' });
        var out = el('div', { id: 'verify-out' });
        var form = el('form', { id: 'verify-form', class: 'card' }, el('h2', { text: t('verify.title') }),
            el('p', { class: 'hint', text: t('verify.hint') }),
            el('label', { for: 'verify-file', text: t('verify.file') }), file,
            el('button', { type: 'submit', id: 'verify-run', text: t('verify.run') }), out);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(out);
            if (!file.files || !file.files.length) {
                out.appendChild(el('p', { class: 'error', text: t('verify.nofile') }));
                return;
            }
            out.appendChild(loading());
            api('POST', '/api/verify', file.files[0]).then(function (d) {
                clear(out);
                out.appendChild(el('p', { id: 'verify-verdict', class: d.ok ? 'ok' : 'error',
                    text: d.ok ? t('verify.ok') : t('verify.bad') }));
                out.appendChild(el('pre', { id: 'verify-lines', text: (d.lines || []).map(str).join('\n') }));
            }, function (err) {
                clear(out).appendChild(errorBox(err));
            });
        });
        return form;
    }

    PAGES.cases = function (view, r, alive) {
        view.appendChild(pageTitle(t('cases.title')));
        var body = el('div', null, loading());
        view.appendChild(body);
        api('GET', '/api/cases').then(function (d) {
            if (!alive()) return;
            clear(body);
            var tb = el('tbody');
            (d.cases || []).forEach(function (c) {
                var cid = num(c.case_id);
                var tr = el('tr', { tabindex: '0', class: 'row', 'data-id': cid === null ? null : String(cid) },
                    el('td', { class: 'num' }, caseLink(c.case_id)), el('td', { text: str(c.title) }),
                    el('td', { text: str(c.status) }), el('td', { text: str(c.owner) }),
                    timeCell(c.created), timeCell(c.updated),
                    el('td', { class: 'num', text: str(c.incidents) }), el('td', { class: 'num', text: str(c.notes) }));
                tr.addEventListener('keydown', function (ev) {
                    if (ev.key === 'Enter' && cid !== null) location.hash = '#/case/' + cid;
                });
                tb.appendChild(tr);
            });
            if (!(d.cases || []).length) tb.appendChild(el('tr', null, el('td', { colspan: '8', class: 'muted', text: t('cases.none') })));
            body.appendChild(el('table', { id: 'cases', class: 'grid' }, el('thead', null, el('tr', null,
                ['col.id', 'case.title_label', 'col.status', 'case.owner', 'case.created', 'case.updated',
                    'case.incidents', 'case.notes'].map(function (h) {
                    return el('th', { scope: 'col', text: t(h) });
                }))), tb));
            if (hasRole('responder')) body.appendChild(newCaseForm(state.lastQuery));
            body.appendChild(verifyForm());
        }, function (err) {
            if (!alive()) return;
            clear(body).appendChild(errorBox(err));
            body.appendChild(verifyForm());
        });
    };

    PAGES.case = function (view, r, alive) {
        var id = r.id;
        view.appendChild(pageTitle(t('case.title', id)));
        var body = el('div', { id: 'case' }, loading());
        view.appendChild(body);
        function reload(flash) {
            return api('GET', '/api/cases/' + id).then(function (d) {
                if (!alive()) return;
                clear(body);
                renderCase(body, id, d, reload);
                if (flash) body.insertBefore(el('p', { class: 'ok', role: 'status', id: 'flash', text: flash }), body.firstChild);
            }, function (err) {
                if (!alive()) return;
                clear(body).appendChild(errorBox(err));
            });
        }
        reload();
    };

    function renderCase(body, id, d, reload) {
        var c = d.case || {};
        body.appendChild(el('h2', { class: 'sigtitle', id: 'case-name', text: str(c.title) }));
        var head = el('section', { class: 'card casehead' }, fieldList('case-fields', [[t('col.status'), c.status],
            [t('case.owner'), c.owner], [t('case.created'), c.created], [t('case.updated'), c.updated],
            [t('case.incidents'), c.incidents], [t('case.notes'), c.notes]]));
        body.appendChild(head);
        if (hasRole('responder')) {
            var msg = el('div', { id: 'case-export-msg' });
            var exp = el('button', { type: 'button', id: 'case-export', text: t('case.export') });
            exp.addEventListener('click', function () {
                clear(msg).appendChild(loading());
                exp.disabled = true;
                api('POST', '/api/cases/' + id + '/export', undefined, { raw: true }).then(function (resp) {
                    return download(resp, 'case-' + id + '.tar.gz');
                }).then(function (f) {
                    clear(msg).appendChild(el('p', { class: 'ok', text: t('case.exported', f.name, f.size) }));
                }, function (err) {
                    clear(msg).appendChild(errorBox(err));
                }).then(function () {
                    exp.disabled = false;
                });
            });
            head.appendChild(el('div', { class: 'export' }, exp, msg));
        }
        var incs = section(t('case.incidents'), 'sec-case-incidents');
        var table = incidentTable('results', null);
        var tb = table.querySelector('tbody');
        (d.incidents || []).forEach(function (inc) {
            tb.appendChild(incidentRow(inc));
        });
        incs.appendChild(table);
        body.appendChild(incs);
        if (hasRole('responder')) {
            var ids = el('input', { id: 'case-add-q', class: 'mono', placeholder: t('case.add_placeholder') });
            var amsg = el('div');
            var add = el('form', { id: 'case-add', class: 'card' }, el('h2', { text: t('case.add') }),
                el('label', { for: 'case-add-q', text: t('case.add_label') }), ids,
                el('button', { type: 'submit', text: t('case.add_run') }), amsg);
            add.addEventListener('submit', function (ev) {
                ev.preventDefault();
                clear(amsg);
                var v = ids.value.trim();
                var payload = /^[0-9]+([ ,]+[0-9]+)*$/.test(v)
                    ? { ids: v.split(/[ ,]+/).map(Number) } : { q: v };
                api('POST', '/api/cases/' + id + '/incidents', payload).then(function () {
                    reload(t('case.added'));
                }, function (err) {
                    amsg.appendChild(errorBox(err));
                });
            });
            body.appendChild(add);
            body.appendChild(noteForm('/api/cases/' + id + '/notes', reload, 'case-note'));
        }
        var hist = section(t('inc.history'), 'sec-case-history');
        hist.appendChild(historyTable('case-history', d.history));
        body.appendChild(hist);
    }

    /* ---- reports -------------------------------------------------------- */

    function isoDay(d) {
        return d.toISOString().slice(0, 10);
    }

    PAGES.reports = function (view) {
        view.appendChild(pageTitle(t('reports.title')));
        var now = new Date();
        var from = el('input', { type: 'date', id: 'rep-from', required: true,
            props: { value: isoDay(new Date(now.getTime() - 7 * 86400000)) } });
        var to = el('input', { type: 'date', id: 'rep-to', required: true, props: { value: isoDay(now) } });
        var lang = el('select', { id: 'rep-lang' }, el('option', { value: 'vi', text: 'Tiếng Việt' }),
            el('option', { value: 'en', text: 'English' }));
        lang.value = state.lang;
        var fmt = el('select', { id: 'rep-format' }, ['pdf', 'html', 'json'].map(function (f) {
            return el('option', { value: f, text: f.toUpperCase() });
        }));
        var msg = el('div', { id: 'rep-msg' });
        var form = el('form', { id: 'report-form', class: 'card' },
            el('p', { class: 'hint', text: t('reports.hint') }),
            el('div', { class: 'row4' },
                el('label', null, t('reports.from'), from), el('label', null, t('reports.to'), to),
                el('label', null, t('reports.lang'), lang), el('label', null, t('reports.format'), fmt)),
            el('button', { type: 'submit', id: 'rep-run', text: t('reports.download') }), msg);
        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            clear(msg).appendChild(loading());
            var qs = new URLSearchParams({ from: from.value, to: to.value, lang: lang.value, format: fmt.value });
            api('GET', '/api/report?' + qs.toString(), undefined, { raw: true }).then(function (resp) {
                return download(resp, 'canhgac-report-' + from.value + '-' + to.value + '.' + fmt.value);
            }).then(function (f) {
                clear(msg).appendChild(el('p', { class: 'ok', text: t('reports.done', f.name, f.size) }));
            }, function (err) {
                clear(msg).appendChild(errorBox(err));
            });
        });
        view.appendChild(form);
    };

    /* ---- audit (admin) -------------------------------------------------- */

    PAGES.audit = function (view, r, alive) {
        view.appendChild(pageTitle(t('audit.title')));
        if (!hasRole('admin')) {
            view.appendChild(el('p', { class: 'error', text: t('err.forbidden') }));
            return;
        }
        var users = section(t('audit.users'), 'sec-users');
        var log = section(t('audit.log'), 'sec-audit');
        view.appendChild(users);
        view.appendChild(log);
        api('GET', '/api/users').then(function (d) {
            if (!alive()) return;
            users.appendChild(kvTable('users', (d.users || []).map(function (u) {
                return [str(u.name), t('role.' + str(u.role)), u.disabled ? t('yes') : t('no'), shortTime(u.created)];
            }), [t('login.user'), t('audit.role'), t('audit.disabled'), t('case.created')]));
        }, function (err) {
            if (alive()) users.appendChild(errorBox(err));
        });
        api('GET', '/api/audit?limit=500').then(function (d) {
            if (!alive()) return;
            log.appendChild(kvTable('audit', (d.audit || []).map(function (a) {
                return [str(a.seq), shortTime(a.time), str(a.user), str(a.address), str(a.event), str(a.detail)];
            }), ['#', t('col.time'), t('col.who'), t('audit.address'), t('audit.event'), t('audit.detail')]));
        }, function (err) {
            if (alive()) log.appendChild(errorBox(err));
        });
    };

    PAGES.notfound = function (view) {
        view.appendChild(pageTitle(t('notfound.title')));
        view.appendChild(el('p', null, el('a', { href: '#/', text: t('nav.dashboard') })));
    };

    /* ---- keyboard ------------------------------------------------------- */

    function typing(target) {
        var tag = target && target.tagName;
        return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable);
    }

    function moveRow(step) {
        var rows = Array.prototype.slice.call(document.querySelectorAll('#view table.incidents tbody tr.row, #view #cases tbody tr.row'));
        if (!rows.length) return;
        var i = rows.indexOf(document.activeElement);
        i = i < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + step));
        rows.forEach(function (r) {
            r.classList.remove('current');
        });
        rows[i].classList.add('current');
        rows[i].focus();
    }

    function toggleHelp() {
        var h = $('keyhelp');
        if (!h.hidden) {
            h.hidden = true;
            return;
        }
        clear(h);
        h.appendChild(el('h2', { text: t('keys.title') }));
        h.appendChild(fieldList('keys', [['/', t('keys.slash')], ['g d', t('keys.gd')], ['g q', t('keys.gq')],
            ['g c', t('keys.gc')], ['g r', t('keys.gr')], ['j / k', t('keys.jk')], ['Enter', t('keys.enter')],
            ['?', t('keys.help')], ['Esc', t('keys.esc')]]));
        h.hidden = false;
    }

    function onKey(ev) {
        if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
        if (ev.key === 'Escape') {
            $('keyhelp').hidden = true;
            if (typing(ev.target)) ev.target.blur();
            return;
        }
        if (typing(ev.target) || !state.me) return;
        var now = Date.now();
        if (state.gPending && now - state.gPending < 1500) {
            state.gPending = 0;
            var to = { d: '#/', q: '#/query', c: '#/cases', r: '#/reports' }[ev.key];
            if (to) {
                ev.preventDefault();
                location.hash = to;
            }
            return;
        }
        if (ev.key === 'g') {
            state.gPending = now;
            return;
        }
        if (ev.key === '/') {
            ev.preventDefault();
            var q = $('q');
            if (q) q.focus();
            else location.hash = '#/query?focus=1';
        } else if (ev.key === 'j') {
            moveRow(1);
        } else if (ev.key === 'k') {
            moveRow(-1);
        } else if (ev.key === '?') {
            toggleHelp();
        }
    }

    /* ---- start ---------------------------------------------------------- */

    function start() {
        state.lang = pickLang();
        $('lang').addEventListener('change', function () {
            state.lang = this.value === 'vi' ? 'vi' : 'en';
            try {
                window.localStorage.setItem('cg.lang', state.lang);
            } catch (e) {
                /* a browser without storage keeps the choice for this page */
            }
            renderHeader();
            route();
        });
        $('logout').addEventListener('click', function () {
            api('POST', '/api/logout', undefined, { noAuthRedirect: true }).then(null, function () {
                return null;
            }).then(function () {
                state.me = null;
                stopPolling();
                location.hash = '#/login';
            });
        });
        document.addEventListener('keydown', onKey);
        window.addEventListener('hashchange', route);
        renderHeader();
        route();
    }

    start();
})();
