#!/usr/bin/python3
"""console.py — the web console in a real browser (Debian's chromium, driven
by chromedriver through python3-selenium) against `canhgac serve`, checked
against what the canhgac command says about the same store.

tests/e2e_browser.sh prepares the stores, the users and the servers, then
runs this. What it checks, as a user would:
  - logged out, every route shows the login page and /api/incidents is 401;
    a wrong password says so;
  - the dashboard's total is `canhgac query --count`; the chart has 24 bars;
  - a query's rows are `canhgac query --json`'s ids, the next page and the
    order by time too; a bad query shows a caret under the column the
    command names; j/k and Enter open a row; / focuses the query box, g d
    goes to the dashboard;
  - an incident: its fields, the pcap link; an analyst changes its status
    and adds a note, the history names the analyst, and `canhgac incident
    show` agrees;
  - a viewer sees no triage or note form, and the API answers 403 when the
    viewer's session posts anyway; a POST without the CSRF header is 403;
  - new incidents written while the page is open show in the banner;
  - cases (create from a query, export, verify an uploaded case file),
    reports, the audit page (admin);
  - the language switch turns the labels Vietnamese and is remembered; both
    tables of i18n.js have the same keys;
  - a store whose incidents carry markup, javascript: URLs and invalid
    UTF-8: no dialog, no script ran (the payloads would set
    window.__cg_xss), no CSP violation, the text shows literally.
Screenshots of each page go to --out.

CG_BROWSER_TIMING=1 prints the time each part took.
Prints "FAIL: what: why" per failed check and a last line
"browser: N passed, M failed"; exits 1 when a check failed, 2 when the
browser cannot start."""
import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

ROUTES = ["#/", "#/query", "#/query?q=sev%20%3E%3D%20high", "#/incident/1", "#/cases", "#/case/1",
          "#/reports", "#/audit"]


class Run:
    def __init__(self, args):
        self.a = args
        self.passed = 0
        self.failed = 0
        self.seen = []
        opts = webdriver.ChromeOptions()
        for o in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1366,768", "--lang=en-US", "--no-first-run", "--disable-extensions",
                  "--disable-background-networking", "--disable-sync", "--user-data-dir=" + args.profile]:
            opts.add_argument(o)
        opts.binary_location = args.chromium
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        opts.add_experimental_option("prefs", {"download.default_directory": args.downloads,
                                               "download.prompt_for_download": False,
                                               "intl.accept_languages": "en-US,en"})
        self.d = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=opts)
        self.d.set_script_timeout(15)
        self.d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": args.downloads})
        self.base = args.base

    # ---- checks ----------------------------------------------------------
    def step(self, name):
        """marks the start of a part; CG_BROWSER_TIMING=1 prints how long
        the one before took"""
        now = time.time()
        if os.environ.get("CG_BROWSER_TIMING") and getattr(self, "_step", None):
            print("time: %-16s %5.1f s" % (self._step[0], now - self._step[1]))
        self._step = (name, now)

    def check(self, name, got, want):
        if got == want:
            self.passed += 1
            return True
        self.failed += 1
        print("FAIL: %s: got [%s] want [%s]" % (name, str(got)[:400], str(want)[:400]))
        return False

    def true(self, name, cond, detail=""):
        return self.check(name, bool(cond), True) or (detail and print("      " + str(detail)[:600]))

    # ---- the browser -----------------------------------------------------
    def go(self, route, base=None):
        self.d.get((base or self.base) + "/" + route)

    def wait(self, cond, what, timeout=8):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
                lambda d: cond(d))
        except TimeoutException:
            return None

    def wait_css(self, css, timeout=8):
        return self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, css), css, timeout)

    def click(self, elem):
        """a click where a user would make it: the element scrolled to the
        middle of the window, clear of the sticky header"""
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", elem)
        elem.click()

    def text(self, css):
        els = self.d.find_elements(By.CSS_SELECTOR, css)
        return els[0].text if els else None

    def shot(self, name):
        self.d.save_screenshot(os.path.join(self.a.out, name + ".png"))

    def page_is(self, name):
        return self.wait(lambda d: d.find_element(By.ID, "view").get_attribute("data-page") == name and
                         not d.find_elements(By.CSS_SELECTOR, "#view .loading"), name)

    def fetch(self, method, path, body=None, csrf=True):
        """a request from the page, with its session cookie; the CSRF token
        from /api/me when csrf is true. Returns [status, text]."""
        return self.d.execute_async_script("""
            var done = arguments[arguments.length - 1];
            var method = arguments[0], path = arguments[1], body = arguments[2], csrf = arguments[3];
            fetch('/api/me', {credentials: 'same-origin'}).then(function (r) {
                return r.ok ? r.json() : {};
            }).then(function (me) {
                var h = {'Content-Type': 'application/json'};
                if (csrf && me.csrf) h['X-CSRF-Token'] = me.csrf;
                return fetch(path, {method: method, headers: h, credentials: 'same-origin',
                                    body: body === null ? undefined : JSON.stringify(body)});
            }).then(function (r) {
                return r.text().then(function (t) { done([r.status, t]); });
            }).catch(function (e) { done([0, String(e)]); });
        """, method, path, body, csrf)

    def login(self, user, password, base=None):
        self.go("#/login", base)
        u = self.wait(lambda d: d.find_element(By.ID, "login-user"), "login")
        u.clear()
        u.send_keys(user)
        p = self.d.find_element(By.ID, "login-pass")
        p.clear()
        p.send_keys(password + Keys.ENTER)
        return self.wait(lambda d: "#/login" not in d.current_url and d.find_elements(By.CSS_SELECTOR, "#who .user"),
                         "logged in")

    def logout(self):
        btn = self.d.find_elements(By.ID, "logout")
        if btn and btn[0].is_displayed():
            btn[0].click()
            self.wait(lambda d: "#/login" in d.current_url, "logged out")

    def logs(self):
        """the console's messages since the last call (each kept in
        self.seen for the end's check)"""
        try:
            got = self.d.get_log("browser")
        except WebDriverException:
            got = []
        self.seen.extend(got)
        return got

    # ---- the command -----------------------------------------------------
    def cg(self, *args, store=None):
        p = subprocess.run([self.a.cg] + list(args) + ["-d", store or self.a.store], capture_output=True)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def cg_ids(self, expr, limit):
        rc, out, err = self.cg("query", "--json", "--limit", str(limit), expr)
        return [json.loads(line)["incident_id"] for line in out.splitlines() if line.strip()]

    def row_ids(self):
        return [int(x) for x in self.d.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll('#results tbody tr.row'),"
            " function (r) { return r.getAttribute('data-id'); });")]


def users(spec):
    out = {}
    for part in spec.split(","):
        name, _, pw = part.partition(":")
        out[name] = pw
    return out


def logged_out(r):
    for route in ROUTES:
        r.go(route)
        ok = r.wait(lambda d: "#/login" in d.current_url and d.find_elements(By.ID, "login-form"), route)
        r.true("logged out: %s goes to the login page" % route, ok, r.d.current_url)
    st = r.fetch("GET", "/api/incidents", None, csrf=False)
    r.check("logged out: GET /api/incidents", st[0], 401)
    r.shot("login")


def wrong_password(r, user):
    r.go("#/login")
    r.wait(lambda d: d.find_element(By.ID, "login-user"), "login")
    r.d.find_element(By.ID, "login-user").send_keys(user)
    r.d.find_element(By.ID, "login-pass").send_keys("not-the-password" + Keys.ENTER)
    err = r.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#login-msg .error"), "login error")
    r.true("a wrong password is refused, the page says so", err and "#/login" in r.d.current_url)


def dashboard(r):
    r.go("#/")
    r.page_is("dashboard")
    total = r.wait(lambda d: d.find_element(By.ID, "dash-total").text, "total")
    rc, out, err = r.cg("query", "--count")
    r.check("dashboard: the total is query --count's", (total or "").strip(), out.strip())
    r.check("dashboard: 24 bars in the chart", len(r.d.find_elements(By.CSS_SELECTOR, "#dash-chart rect.bar")), 24)
    r.true("dashboard: top signatures listed", r.d.find_elements(By.CSS_SELECTOR, "#dash-sigs tbody tr"))
    r.true("dashboard: open by severity", len(r.d.find_elements(By.CSS_SELECTOR, "#dash-sev tbody tr")) == 4)
    r.shot("dashboard")


def query(r):
    expr = "sev >= medium"
    r.go("#/")
    r.page_is("dashboard")
    # "/" leads to the query box from any page
    r.d.find_element(By.TAG_NAME, "body").send_keys("/")
    box = r.wait(lambda d: d.find_element(By.ID, "q") if d.switch_to.active_element.get_attribute("id") == "q"
                 else None, "query box focused")
    r.true("keyboard: / focuses the query box", box)
    if not box:
        r.go("#/query")
        box = r.wait(lambda d: d.find_element(By.ID, "q"), "q")
    box.clear()
    box.send_keys(expr + Keys.ENTER)
    r.wait(lambda d: "q=sev" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#results tbody tr.row"), "rows")
    want = r.cg_ids(expr, 50)
    r.check("query: the rows are query --json's", r.row_ids(), want)
    r.shot("query")
    more = r.d.find_elements(By.ID, "query-more")
    want100 = r.cg_ids(expr, 100)
    if len(want100) > 50:
        r.true("query: a next page is offered", more and more[0].is_displayed())
        r.click(more[0])
        r.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results tbody tr.row")) > 50, "page 2")
        r.check("query: the next page continues query --json's", r.row_ids(), want100)
    # oldest first
    r.click(r.d.find_element(By.ID, "sort-time"))
    r.wait(lambda d: "order=asc" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#results tbody tr.row"), "asc")
    r.page_is("query")
    times = [e.get_attribute("title") for e in r.d.find_elements(By.CSS_SELECTOR, "#results tbody tr.row td.time")]
    rc, out, err = r.cg("query", "--json", "--limit", "0", expr)
    oldest = min(json.loads(x)["first_seen"] for x in out.splitlines())
    r.true("query: sorted by time, oldest first", times and times == sorted(times) and times[0] == oldest, times[:3])


def bad_query(r):
    expr = "src = 10.0.0.1 and sev >= bogus"
    rc, out, err = r.cg("query", expr)
    col = None
    for line in err.splitlines():
        if "column " in line:
            col = int(line.split("column ", 1)[1].split(":", 1)[0])
    r.true("bad query: the command names a column", col, err)
    r.go("#/query")
    box = r.wait(lambda d: d.find_element(By.ID, "q"), "q")
    box.clear()
    box.send_keys(expr + Keys.ENTER)
    caret = r.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#query-error .qcaret").text, "caret")
    line = r.text("#query-error .qline")
    r.check("bad query: the query shown over the caret", line, expr)
    r.check("bad query: the caret under the column", len(caret or "") - 1 if caret else None, (col or 0) - 1)
    r.check("bad query: only a caret", (caret or "").strip(), "^")
    r.true("bad query: the server's line shown", r.text("#query-error p"))
    r.shot("query-error")


def keyboard_open(r):
    r.go("#/query?q=" + "sev%20%3E%3D%20medium")
    r.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr.row"), "rows")
    ids = r.row_ids()
    r.d.execute_script("document.activeElement.blur()")
    for k in "jjkj":
        r.d.switch_to.active_element.send_keys(k)
    r.d.switch_to.active_element.send_keys(Keys.ENTER)
    ok = r.wait(lambda d: d.current_url.endswith("#/incident/%d" % ids[1]), "incident")
    r.true("keyboard: j j k j Enter opens the second row", ok, r.d.current_url)
    return ids[1]


def incident(r, iid, user):
    r.go("#/incident/%d" % iid)
    r.page_is("incident")
    rc, out, err = r.cg("incident", "show", "--json", str(iid))
    inc = json.loads(out)["incident"]
    r.check("incident: the signature", r.text("#inc-signature"), inc["signature"])
    r.true("incident: the pcap link", r.d.find_elements(By.CSS_SELECTOR, "a#pcap-link[href='/api/incidents/%d/pcap']" % iid))
    st = r.d.execute_async_script("""
        var done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {
            return r.arrayBuffer().then(function (b) {
                var v = new DataView(b); done([r.status, b.byteLength >= 4 ? v.getUint32(0, true) : 0]); });
        }).catch(function (e) { done([0, 0]); });""", "/api/incidents/%d/pcap" % iid)
    r.true("incident: the pcap link gives a capture (pcap or pcapng)",
           st[0] == 200 and st[1] in (0xA1B2C3D4, 0xA1B23C4D, 0x0A0D0D0A), st)
    if inc.get("payload"):
        raw = base64.b64decode(inc["payload"])
        hexdump = r.d.execute_script("return document.getElementById('payload-hex').textContent;")
        r.check("incident: the payload's hex, 16 bytes a line",
                "".join(ln[6:55].replace(" ", "") for ln in hexdump.splitlines()), raw.hex())
        r.click(r.d.find_element(By.ID, "payload-show-text"))
        shown = r.wait(lambda d: d.execute_script(
            "var e = document.getElementById('payload-text'); return e && e.textContent;"), "text")
        want = "".join(chr(b) if 0x20 <= b < 0x7F or b in (9, 10) else "" if b == 13 else "." for b in raw)
        r.check("incident: the payload as text", shown, want)
    r.shot("incident")
    # triage
    Select(r.d.find_element(By.ID, "triage-status")).select_by_value("investigating")
    a = r.d.find_element(By.ID, "triage-assignee")
    a.clear()
    a.send_keys(user)
    r.click(r.d.find_element(By.ID, "triage-save"))
    r.wait(lambda d: d.find_element(By.ID, "flash").text == "Saved.", "saved")
    r.check("triage: the status shown", r.text("#inc-status"), "investigating")
    r.check("triage: the assignee shown", r.text("#inc-assignee"), user)
    note = "Đã gọi chủ hệ thống — <b>%s</b> & 'quote'" % user
    r.d.find_element(By.ID, "note-text").send_keys(note)
    r.click(r.d.find_element(By.ID, "note-save"))
    r.wait(lambda d: d.find_element(By.ID, "flash").text == "Note added." and
           note in d.find_element(By.ID, "inc-history").text, "note")
    hist = r.text("#inc-history") or ""
    r.true("history: the note, as text", note in hist, hist)
    who = [e.text for e in r.d.find_elements(By.CSS_SELECTOR, "#inc-history td.who")]
    r.true("history: the user's name", who.count(user) >= 3, who)
    rc, out, err = r.cg("incident", "show", str(iid))
    r.true("incident show: the status change by the user",
           any(user in ln and "status: new -> investigating" in ln for ln in out.splitlines()), out)
    r.true("incident show: the note by the user", any(user in ln and note in ln for ln in out.splitlines()), out)
    rc, out, err = r.cg("incident", "show", "--json", str(iid))
    r.check("incident show: status", json.loads(out)["incident"]["status"], "investigating")
    r.shot("incident-triaged")
    # a change without the CSRF header
    st = r.fetch("POST", "/api/incidents/%d/notes" % iid, {"text": "no csrf"}, csrf=False)
    r.check("POST without X-CSRF-Token", st[0], 403)
    st = r.fetch("POST", "/api/incidents/%d/notes" % iid, {"text": "with csrf"}, csrf=True)
    r.check("POST with X-CSRF-Token (analyst)", st[0], 201)


def missing(r):
    """an incident or case that is not there, a route that is not: one line"""
    for route, page in (("#/incident/999999", "incident"), ("#/case/999999", "case")):
        r.go(route)
        r.page_is(page)
        err = r.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#view p.error").text, route)
        r.true("%s: the server's line, shown" % route, err and "999999" in err, err)
    r.go("#/no/such/page")
    r.page_is("notfound")
    r.true("an unknown route: its page, a way back", r.d.find_elements(By.CSS_SELECTOR, "#view a[href='#/']"))


def keyboard_nav(r):
    r.go("#/query")
    r.page_is("query")
    r.d.execute_script("document.activeElement.blur()")
    body = r.d.find_element(By.TAG_NAME, "body")
    body.send_keys("g")
    body.send_keys("d")
    r.true("keyboard: g d goes to the dashboard", r.wait(lambda d: d.current_url.endswith("#/"), "dash"))
    body = r.d.find_element(By.TAG_NAME, "body")
    body.send_keys("g")
    body.send_keys("q")
    r.true("keyboard: g q goes to the query page", r.wait(lambda d: "#/query" in d.current_url, "query"))
    r.page_is("query")
    r.d.execute_script("document.activeElement.blur()")
    r.d.switch_to.active_element.send_keys("?")
    r.true("keyboard: ? lists the keys", r.wait(lambda d: d.find_element(By.ID, "keyhelp").is_displayed(), "help"))
    r.d.switch_to.active_element.send_keys(Keys.ESCAPE)
    r.true("keyboard: Esc closes the list", r.wait(lambda d: not d.find_element(By.ID, "keyhelp").is_displayed(), "no help"))


def viewer(r, iid):
    r.go("#/incident/%d" % iid)
    r.page_is("incident")
    r.wait_css("#inc-history")
    r.check("viewer: no triage form", len(r.d.find_elements(By.ID, "triage-form")), 0)
    r.check("viewer: no note form", len(r.d.find_elements(By.ID, "note-form")), 0)
    r.check("viewer: no save button", len(r.d.find_elements(By.ID, "triage-save")), 0)
    r.shot("incident-viewer")
    st = r.fetch("POST", "/api/incidents/%d/triage" % iid, {"status": "resolved"})
    r.check("viewer: POST triage with the session and its CSRF", st[0], 403)
    st = r.fetch("POST", "/api/incidents/%d/notes" % iid, {"text": "viewer note"})
    r.check("viewer: POST a note", st[0], 403)
    rc, out, err = r.cg("incident", "show", "--json", str(iid))
    r.check("viewer: the incident unchanged", json.loads(out)["incident"]["status"], "investigating")
    r.check("viewer: no audit link", len(r.d.find_elements(By.CSS_SELECTOR, "#nav a[href='#/audit']")), 0)


def new_incidents(r):
    """incidents written while the dashboard is open show in the banner"""
    if not r.a.more_pcap:
        return
    r.go("#/")
    r.page_is("dashboard")
    time.sleep(0.3)
    before = int(r.text("#dash-total") or 0)
    rc, out, err = r.cg("query", "--count")
    p = subprocess.run([r.a.cg, "run", "-q", "-S", r.a.more_rules, "--no-enrich", "-o", "/dev/null",
                        "-r", r.a.more_pcap, "-d", r.a.store], capture_output=True)
    if not r.check("new incidents: run into the served store", p.returncode, 0):
        print("      " + p.stderr.decode("utf-8", "replace")[:400])
        return
    rc, out2, err = r.cg("query", "--count")
    n = int(out2) - int(out)
    banner = r.wait(lambda d: d.find_element(By.ID, "new-count").text if d.find_elements(By.ID, "new-count") else None,
                    "banner", timeout=12)
    r.check("new incidents: the banner's count", banner, "%d new incidents" % n)
    r.true("new incidents: listed on the dashboard", len(r.d.find_elements(By.CSS_SELECTOR, "#dash-new a")) == n)
    r.true("new incidents: the page was not reloaded", int(r.text("#dash-total") or 0) == before)
    r.check("new incidents: their hostile text ran no script",
            r.d.execute_script("return window.__cg_xss === undefined;"), True)
    ids = [int(x.text.lstrip("#")) for x in r.d.find_elements(By.CSS_SELECTOR, "#dash-new a")]
    r.check("new incidents: newest first", ids, sorted(ids, reverse=True))
    r.shot("dashboard-new")


def cases(r):
    r.go("#/query?q=" + "sev%20%3D%20high")
    form = r.wait(lambda d: d.find_element(By.ID, "case-new"), "case form")
    if not r.true("cases: an admin may make a case from the query", form):
        return
    r.d.find_element(By.ID, "case-title").send_keys("Tấn công <script>x</script> cổng dịch vụ công")
    r.click(r.d.find_element(By.CSS_SELECTOR, "#case-new button"))
    ok = r.wait(lambda d: "#/case/" in d.current_url, "case page")
    r.true("cases: created, its page opens", ok, r.d.current_url)
    if not ok:
        return
    cid = int(r.d.current_url.rsplit("/", 1)[1])
    r.page_is("case")
    rc, out, err = r.cg("case", "show", "--json", str(cid))
    c = json.loads(out)
    r.check("case: the title", r.text("#case-name"), c["case"]["title"])
    r.check("case: the incidents", sorted(r.row_ids()), sorted(i["incident_id"] for i in c["incidents"]))
    r.d.find_element(By.ID, "case-note-text").send_keys("Ghi chú hồ sơ")
    r.click(r.d.find_element(By.ID, "case-note-save"))
    r.wait(lambda d: "Ghi chú hồ sơ" in (d.find_element(By.ID, "case-history").text or ""), "case note")
    r.true("case: the note in its history", "Ghi chú hồ sơ" in (r.text("#case-history") or ""))
    r.click(r.d.find_element(By.ID, "case-export"))
    done = r.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#case-export-msg .ok, #case-export-msg .error"),
                  "export", timeout=20)
    r.true("case: exported (the browser got the file)",
           done and r.d.find_elements(By.CSS_SELECTOR, "#case-export-msg .ok"), r.text("#case-export-msg"))
    r.shot("case")
    # the file the browser saved, uploaded again to be verified
    path = os.path.join(r.a.downloads, "case-%d.tar.gz" % cid)
    saved = r.wait(lambda d: os.path.exists(path) and os.path.getsize(path) > 0 and
                   not [f for f in os.listdir(r.a.downloads) if f.endswith(".crdownload")], "download", timeout=10)
    if not r.true("case: the browser saved case-%d.tar.gz" % cid, saved, os.listdir(r.a.downloads)):
        return
    r.true("case: the size the page said", ("(%d bytes)" % os.path.getsize(path)) in (r.text("#case-export-msg") or ""),
           r.text("#case-export-msg"))
    r.go("#/cases")
    r.page_is("cases")
    r.true("cases: listed", r.d.find_elements(By.CSS_SELECTOR, "#cases tr[data-id='%d']" % cid))
    r.d.find_element(By.ID, "verify-file").send_keys(path)
    r.click(r.d.find_element(By.ID, "verify-run"))
    v = r.wait(lambda d: d.find_elements(By.ID, "verify-verdict") or d.find_elements(By.CSS_SELECTOR, "#verify-out .error"),
               "verdict", timeout=20)
    r.check("verify: the verdict", r.text("#verify-verdict"), "Verified: nothing was changed.")
    r.true("verify: the lines", "verified" in (r.text("#verify-lines") or ""), r.text("#verify-lines"))
    r.shot("cases")
    # a damaged file
    bad = path + ".bad.tar.gz"
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    with open(bad, "wb") as f:
        f.write(bytes(data))
    r.go("#/cases")
    r.page_is("cases")
    r.d.find_element(By.ID, "verify-file").send_keys(bad)
    r.click(r.d.find_element(By.ID, "verify-run"))
    v = r.wait(lambda d: d.find_elements(By.ID, "verify-verdict") or d.find_elements(By.CSS_SELECTOR, "#verify-out p.error"),
               "verdict", timeout=20)
    r.true("verify: a damaged file is not verified", v and r.text("#verify-verdict") != "Verified: nothing was changed.")


def reports(r):
    r.go("#/reports")
    r.page_is("reports")
    r.d.execute_script("document.getElementById('rep-from').value = arguments[0];"
                       "document.getElementById('rep-to').value = arguments[1];", r.a.report_from, r.a.report_to)
    Select(r.d.find_element(By.ID, "rep-format")).select_by_value("html")
    r.click(r.d.find_element(By.ID, "rep-run"))
    done = r.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#rep-msg .ok, #rep-msg .error"), "report", timeout=30)
    r.true("reports: downloaded", done and r.d.find_elements(By.CSS_SELECTOR, "#rep-msg .ok"), r.text("#rep-msg"))
    m = re.search(r"(\S+\.html) \((\d+) bytes\)", r.text("#rep-msg") or "")
    path = m and os.path.join(r.a.downloads, m.group(1))
    saved = m and r.wait(lambda d: os.path.exists(path) and os.path.getsize(path) == int(m.group(2)), "report file")
    r.true("reports: the browser saved the file the page names", saved, r.text("#rep-msg"))
    if saved:
        with open(path, encoding="utf-8", errors="replace") as f:
            html = f.read()
        r.true("reports: an HTML report", "<html" in html.lower(), html[:200])
    r.shot("reports")


def audit(r, names):
    r.go("#/audit")
    r.page_is("audit")
    r.wait_css("#users tbody tr")
    listed = [e.text for e in r.d.find_elements(By.CSS_SELECTOR, "#users tbody tr td:first-child")]
    r.true("audit: the users listed", all(n in listed for n in names), listed)
    r.wait_css("#audit tbody tr")
    r.true("audit: the trail has entries", r.d.find_elements(By.CSS_SELECTOR, "#audit tbody tr"))
    r.shot("audit")


def language(r):
    r.go("#/")
    r.page_is("dashboard")
    r.check("language: English at first (navigator.language en-US)", r.text("#nav a[href='#/']"), "Dashboard")
    Select(r.d.find_element(By.ID, "lang")).select_by_value("vi")
    r.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#nav a[href='#/']").text == "Tổng quan", "vi")
    r.page_is("dashboard")
    r.check("language: the nav in Vietnamese", r.text("#nav a[href='#/']"), "Tổng quan")
    r.check("language: the title in Vietnamese", r.text("#view h1"), "Tổng quan")
    r.check("language: the html lang", r.d.find_element(By.TAG_NAME, "html").get_attribute("lang"), "vi")
    r.shot("dashboard-vi")
    r.d.refresh()
    r.page_is("dashboard")
    r.check("language: remembered after a reload", r.text("#nav a[href='#/query']"), "Truy vấn")
    r.go("#/query?q=sev%20%3E%3D%20bogus")
    r.wait_css("#query-error")
    r.check("language: the query page in Vietnamese", r.text("#query-run"), "Chạy")
    missing = r.d.execute_script("""
        var en = Object.keys(window.CG_I18N.en), vi = Object.keys(window.CG_I18N.vi);
        return en.filter(function (k) { return vi.indexOf(k) < 0; })
          .concat(vi.filter(function (k) { return en.indexOf(k) < 0; }));""")
    r.check("i18n.js: the same keys in both languages", missing, [])
    # every label app.js asks for (as served) is in i18n.js
    src = r.d.execute_async_script("""var done = arguments[arguments.length - 1];
        fetch('/app.js').then(function (r) { return r.text(); }).then(done, function () { done(''); });""")
    used = {k for k in re.findall(r"\bt\('([a-z0-9_.]+)'", src) if not k.endswith(".")}
    used |= {"sev." + x for x in ("high", "medium", "low", "info")}
    used |= {"role." + x for x in ("viewer", "analyst", "responder", "admin")}
    used |= {"layer.%d" % i for i in range(1, 5)}
    used |= {"status." + x for x in ("new", "acknowledged", "investigating", "resolved", "false-positive")}
    have = set(r.d.execute_script("return Object.keys(window.CG_I18N.en);"))
    r.true("app.js: labels found in the served script", len(used) > 100, len(used))
    r.check("i18n.js: every label app.js uses", sorted(used - have), [])
    # a browser in Vietnamese, nothing chosen yet: Vietnamese
    Select(r.d.find_element(By.ID, "lang")).select_by_value("en")
    r.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#nav a[href='#/']").text == "Dashboard", "en")
    r.d.execute_script("localStorage.removeItem('cg.lang');")
    sc = r.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source":
        "Object.defineProperty(navigator, 'language', {get: function () { return 'vi-VN'; }});"
        "Object.defineProperty(navigator, 'languages', {get: function () { return ['vi-VN', 'vi']; }});"})
    r.go("#/")
    r.d.refresh()
    r.page_is("dashboard")
    r.check("language: navigator.language vi-VN gives Vietnamese", r.text("#nav a[href='#/']"), "Tổng quan")
    r.d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": sc["identifier"]})
    Select(r.d.find_element(By.ID, "lang")).select_by_value("en")
    r.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#nav a[href='#/']").text == "Dashboard", "en")
    r.check("language: back to English", r.d.execute_script("return localStorage.getItem('cg.lang');"), "en")


def xss(r, user, password):
    base = r.a.xss_base
    ok = r.login(user, password, base)
    if not r.true("xss: logged in", ok):
        return
    r.logs()
    rc, out, err = r.cg("query", "--json", "--limit", "0", store=r.a.xss_store)
    incs = [json.loads(x) for x in out.splitlines()]
    r.true("xss: the store has the hostile incidents", len(incs) >= 8, len(incs))
    pages = ["#/", "#/query?q="] + ["#/incident/%d" % i["incident_id"] for i in incs]
    seen = set()
    for p in pages:
        r.go(p, base)
        r.wait(lambda d: d.find_element(By.ID, "view").get_attribute("data-page") and
               not d.find_elements(By.CSS_SELECTOR, "#view .loading"), p)
        time.sleep(0.05)
        try:
            alert = r.d.switch_to.alert
            r.true("xss: no dialog on %s" % p, False, alert.text)
            alert.dismiss()
        except NoAlertPresentException:
            r.passed += 1
        flag = r.d.execute_script("return window.__cg_xss === undefined ? null : window.__cg_xss;")
        r.check("xss: no script ran on %s" % p, flag, None)
        body = r.d.find_element(By.ID, "view").text
        seen.add(body)
        r.check("xss: no element from the data on %s" % p, r.d.execute_script(
            "return document.querySelectorAll('#view img, #view script, #view svg:not(#dash-chart), #view iframe,"
            " #view [onerror], #view [onload]').length;"), 0)
        r.check("xss: no javascript: link on %s" % p, r.d.execute_script(
            "return Array.prototype.filter.call(document.querySelectorAll('a[href]'), function (a) {"
            " return !/^(#\\/|\\/api\\/incidents\\/[0-9]+\\/pcap$|\\/$|blob:)/.test(a.getAttribute('href')); }).length;"),
            0)
        if p == "#/incident/1":
            r.shot("xss-incident")
        if p == "#/query?q=":
            r.shot("xss-query")
    text = "\n".join(seen)
    for want in ["<script>window.__cg_xss=1</script>", "'><img src=x onerror=window.__cg_xss=1> &amp &lt b&gt",
                 "javascript:window.__cg_xss=1//XSSPROBE", "javascript:alert(1)",
                 "\"><img src=x onerror=window.__cg_xss=1> <svg onload=window.__cg_xss=1>", "\ufffd"]:
        r.true("xss: shown as text: %s" % want, want in text)
    csp = [e["message"] for e in r.logs() if "Content Security Policy" in e.get("message", "")]
    r.check("xss: no CSP violation in the console", csp, [])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the console's URL (http://127.0.0.1:PORT)")
    ap.add_argument("--xss-base", help="the console over the store of hostile incidents")
    ap.add_argument("--cg", required=True, help="the canhgac command")
    ap.add_argument("--store", required=True)
    ap.add_argument("--xss-store")
    ap.add_argument("--users", required=True, help="viewer:PW,analyst:PW,admin:PW")
    ap.add_argument("--out", required=True, help="where the screenshots go")
    ap.add_argument("--work", required=True, help="a scratch directory")
    ap.add_argument("--more-pcap", help="a capture to run into the store while the page is open")
    ap.add_argument("--more-rules")
    ap.add_argument("--report-from", default="2025-11-01")
    ap.add_argument("--report-to", default="2025-12-01")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    a = ap.parse_args()
    a.profile = os.path.join(a.work, "profile")
    a.downloads = os.path.join(a.work, "downloads")
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.downloads, exist_ok=True)
    u = users(a.users)
    try:
        r = Run(a)
    except WebDriverException as e:
        print("browser: chromium does not start: %s" % str(e).splitlines()[0])
        return 2
    t0 = time.time()
    try:
        r.step('logged_out')
        logged_out(r)
        wrong_password(r, "analyst")
        r.true("login: analyst", r.login("analyst", u["analyst"]))
        r.check("login: the user shown", r.text("#who .user"), "analyst")
        r.check("login: the role shown", r.text("#who .role"), "analyst")
        r.step('dashboard')
        dashboard(r)
        r.step('query')
        query(r)
        r.step('bad_query')
        bad_query(r)
        r.step('keyboard_open')
        iid = keyboard_open(r)
        r.step('incident')
        incident(r, iid, "analyst")
        r.step('missing')
        missing(r)
        r.step('keyboard_nav')
        keyboard_nav(r)
        r.step('new_incidents')
        new_incidents(r)
        r.step('language')
        language(r)
        r.logout()
        st = r.fetch("GET", "/api/incidents", None, csrf=False)
        r.check("logged out: GET /api/incidents after logout", st[0], 401)
        r.go("#/")
        r.true("logged out: back to the login page",
               r.wait(lambda d: "#/login" in d.current_url and d.find_elements(By.ID, "login-form"), "login"))
        r.true("login: viewer", r.login("viewer", u["viewer"]))
        r.step('viewer')
        viewer(r, iid)
        r.logout()
        r.true("login: admin", r.login("admin", u["admin"]))
        r.step('cases')
        cases(r)
        r.step('reports')
        reports(r)
        r.step('audit')
        audit(r, list(u))
        r.logout()
        if a.xss_base:
            r.step('xss')
            xss(r, "analyst", u["analyst"])
        r.step('end')
        r.logs()
        errors = [m["message"] for m in r.seen if m.get("source") == "javascript" or
                  "Content Security Policy" in m.get("message", "")]
        r.check("no script error and no CSP violation in the whole run", errors, [])
    except Exception as e:  # a page that broke the script is a failure, with where
        r.failed += 1
        import traceback
        print("FAIL: the browser script stopped: %s" % (str(e).strip().splitlines() or [repr(e)])[0])
        for fr in traceback.extract_tb(e.__traceback__):
            if fr.filename == __file__:
                print("      at %s:%d %s" % (os.path.basename(fr.filename), fr.lineno, fr.line))
        try:
            r.shot("failure")
        except WebDriverException:
            pass
    finally:
        r.d.quit()
    print("browser: %d passed, %d failed (%.0f s)" % (r.passed, r.failed, time.time() - t0))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
