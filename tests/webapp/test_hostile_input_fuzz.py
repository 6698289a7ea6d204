"""Hostile input through every route (issue 15, finding 8): no request may answer a server error.

Every route of the URL map (tests/webapp/test_route_matrix.py enumerates them and builds the
objects their URLs point to), for every caller (anonymous, each role, the two subject accounts),
gets hostile values -- NUL, lone surrogates, RTL marks, 1 MB strings, negative and huge numbers,
duplicate parameters, wrong content types, multipart garbage, JSON nested 100,000 deep, hostile
path parameters, hostile file names and cookies -- in every field it has: the fields of the forms
its pages render (read from the HTML) and the arguments its view reads (read from its source),
plus its own path parameters given again as query arguments.

It samples rather than enumerates: for each route and method one of the callers allowed to use it
(drawn at random) sends every field and every shape; every other caller, allowed or refused, sends
one field and, if allowed, one shape (refused callers meet the access check first). So every route
x caller pair gets hostile values, every field and shape of a route is covered at least once, and
the test sends about 2,100 requests rather than 4,200. The values a route gets are dealt from a deck
of its own, a NUL first, so it sees as many different ones as its requests allow. On PostgreSQL
(where the values that reach the database meet a stricter driver: NUL, out-of-range integers) the
refused callers are left out: their requests end at the access check, before any query, the same on
both databases, and SQLite's run sends them.

A 500 (or an exception out of the app) fails the test and prints the route, caller, field and
value. The values are drawn from random.Random(15): a failure reproduces. The test prints how many
requests it sent.
"""
from __future__ import annotations

import functools
import inspect
import io
import json
import random
import re
import time
from urllib.parse import quote, urlsplit

from lxml import html as lxml_html
from werkzeug.routing import UnicodeConverter

from credflow_web import Browser
from test_route_matrix import (ARG_OVERRIDES, ARGS, BODIES, CALLERS, ENDS_ALL_SESSIONS, OWN_BROWSER, USERNAMES,
                               access_for, matrix_rules, methods_of)
# the route matrix's world: its objects, in a SQLite template built once for this module
from test_route_matrix import _sqlite_template, objects, world_seed  # noqa: F401,E402 (fixtures)

SEED = 15
MEGABYTE = "x" * (1024 * 1024)
HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eetadpu.exe", MEGABYTE, "-1", str(2 ** 63), "1e309",
           "NaN", "Infinity", "²", "１２", "9" * 40, "0", "", "   ", "\r\nX-Injected: 1", "a\nb",
           "//evil.example/x", "/a\r\nX-Injected: 1", "/a\nb", "/\x00", "javascript:alert(1)", "../../../etc/passwd",
           "%00", "'\"<>&", "\u0000\u202e\ud800"]
NUMBERS = ["-1", "0", str(2 ** 31), str(2 ** 63), "9" * 40, "1e309", "NaN", "²", "１２", "0x10", " 1"]
PATH_HOSTILE = ["\x00", "a\x00b", "\u202e", "x" * 5000, "-1", str(2 ** 63), "..", "%2F", "\ud800"]
COMMON_ARGS = ("next", "back", "page", "lang", "q", "inline", "download", "status", "tab")
FILE_NAMES = ["a\x00b.pdf", "\u202efdp.exe", "x" * 1000 + ".pdf", "../../etc/passwd", "\r\n.pdf",
              "", ".pdf", "con.pdf"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
LOGIN_IP = "127.0.0.1"
THOROUGH, SAMPLED, REFUSED = "thorough", "sampled", "refused"    # how much a caller sends to a route
READS = re.compile(r"""(?:args|form|files|cookies)\s*(?:\.get(?:list)?\(|\[)\s*["']([A-Za-z_][\w-]*)["']""")


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(value)} chars)"


@functools.lru_cache(maxsize=256)   # the megabyte value is encoded once
def encode(value: str) -> str:
    """Percent-encoding of any string, lone surrogates as their (invalid) UTF-8 bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


def form_bytes(pairs) -> bytes:
    return query_string(pairs).encode("ascii")


# -- what each route takes --------------------------------------------------------------------------

class Route:
    def __init__(self, rule, url: str, json_body: bool):
        self.rule, self.url, self.endpoint, self.json_body = rule, url, rule.endpoint, json_body
        self.fields: set[str] = set(rule.arguments)      # a path parameter given again as a query argument
        self.defaults: dict[str, list[tuple[str, str]]] = {}   # method -> the rendered form's values
        self.files: set[str] = set()
        self.form_url: dict[str, str] = {}


def view_reads(view) -> set[str]:
    try:
        return set(READS.findall(inspect.getsource(inspect.unwrap(view))))
    except (OSError, TypeError):
        return set()


def form_values(form) -> tuple[list[tuple[str, str]], set[str]]:
    values, files, seen_radio = [], set(), set()
    for el in form.xpath(".//input[@name] | .//select[@name] | .//textarea[@name]"):
        name, kind = el.get("name"), (el.get("type") or "").lower()
        if el.tag == "input" and kind == "file":
            files.add(name)
        elif el.tag == "select":
            options = el.xpath("./option/@value | ./optgroup/option/@value")
            chosen = el.xpath(".//option[@selected]/@value") or [o for o in options if o] or [""]
            values.append((name, chosen[0]))
        elif el.tag == "textarea":
            values.append((name, el.text or "说明"))
        elif kind in ("radio",):
            if name not in seen_radio:
                seen_radio.add(name)
                values.append((name, el.get("value", "")))
        elif kind == "checkbox":
            if el.get("checked") is not None:
                values.append((name, el.get("value", "on")))
        elif kind not in ("submit", "button", "reset", "image"):
            values.append((name, el.get("value", "")))
    return values, files


def discover(app, routes_by_endpoint, browsers) -> None:
    """Render every GET page as every caller who may open it; note each form's fields under the
    route it posts to."""
    adapter = app.url_map.bind("localhost")
    for route in routes_by_endpoint.values():
        if "GET" not in route.rule.methods or route.json_body:
            continue
        for caller, browser in browsers.items():
            if caller not in access_for(route.endpoint, "GET").allowed:
                continue
            response = browser.get(route.url)
            if response.mimetype != "text/html" or response.status_code != 200:
                continue
            doc = lxml_html.fromstring(response.get_data(as_text=True))
            for form in doc.xpath("//form"):
                method = (form.get("method") or "GET").upper()
                action = form.get("action") or route.url
                path = urlsplit(action).path or urlsplit(route.url).path
                try:
                    endpoint, _ = adapter.match(path, method=method)
                except Exception:   # noqa: BLE001 -- a form to somewhere else
                    continue
                target = routes_by_endpoint.get(endpoint)
                if target is None:
                    continue
                values, files = form_values(form)
                target.fields.update(name for name, _ in values if name != "csrf_token")
                target.files.update(files)
                target.fields.update(files)
                if method not in target.defaults:
                    target.defaults[method] = [(k, v) for k, v in values if k != "csrf_token"]
                    target.form_url[method] = path + ("?" + urlsplit(action).query if urlsplit(action).query else "")


# -- the requests ---------------------------------------------------------------------------------

class Fuzzer:
    def __init__(self, app, web, objects):
        self.app, self.web, self.objects = app, web, objects
        self.rng = random.Random(SEED)
        self.sent, self.failures = 0, []
        self.decks: dict[tuple[str, str], list[str]] = {}    # per route and method: HOSTILE, shuffled
        self.route_key = ("", "")
        self.login_ips = iter(f"10.15.{i // 250}.{i % 250 + 1}" for i in range(100_000))

    def browser(self, caller: str) -> Browser:
        username = USERNAMES.get(caller)
        if username is not None:
            return self.web(username, LOGIN_IP)
        browser = self.web(None, LOGIN_IP)
        browser.get("/login")
        return browser

    def send(self, who, route, method, caller, variant, field, value, url, **kwargs):
        headers = kwargs.pop("headers", {})
        own_cookies = kwargs.pop("own_cookies", False)   # a client with no cookie jar: the Cookie header as given
        if route.endpoint.startswith("api.") and who.token_for_api:
            headers["Authorization"] = f"Bearer {who.token_for_api}"
        if method != "GET" and who.browser.token:
            headers.setdefault("X-CSRFToken", who.browser.token)
        client = who.browser.client
        if own_cookies or route.endpoint in OWN_BROWSER and route.endpoint not in ENDS_ALL_SESSIONS:
            # logging in and out from a browser of its own, at an address of its own (no throttling)
            client = Browser(self.app, next(self.login_ips)).client
        self.sent += 1
        where = f"{method} {route.endpoint} {url[:120]!r} as {caller}: {variant} {field!r}={short(value)}"
        try:
            response = client.open(url, method=method, headers=headers, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- an exception out of the app is a failure too
            self.failures.append(f"{where} -> {type(exc).__name__}: {str(exc)[:200]}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{where} -> {response.status_code}")
        if route.endpoint in ENDS_ALL_SESSIONS and who.username:
            who.needs_login = True     # the caller logs in again before its next request
        return response

    def hostile(self, field: str = "") -> str:
        """Any hostile value; for a field that names an id or a number, a hostile number half the time.
        The values a route gets are dealt from its own shuffled deck, so the few requests it gets
        carry as many different values as they can, the first of them a NUL (the byte that made 13
        routes answer 500 on PostgreSQL)."""
        if re.search(r"(^|_)(id|page|per_page|year|a|b|source|target)$", field) and self.rng.random() < 0.5:
            return self.rng.choice(NUMBERS)
        if self.route_key not in self.decks:
            cards = self.rng.sample(HOSTILE, len(HOSTILE))
            cards.append(cards.pop(next(i for i, card in enumerate(cards) if "\x00" in card)))   # dealt first
            self.decks[self.route_key] = cards
        deck = self.decks[self.route_key]
        if not deck:
            deck.extend(self.rng.sample(HOSTILE, len(HOSTILE)))
        return deck.pop()

    def fuzz_route(self, who, route, method, caller, depth: str) -> None:
        """THOROUGH (the route's drawn caller): every field once with a hostile value, then each other
        shape once. SAMPLED (another allowed caller): one field and one shape, at random. REFUSED (it
        meets the access check first): one field, at random."""
        rng = self.rng
        self.route_key = (route.endpoint, method)
        base = route.form_url.get(method, route.url)
        defaults = list(route.defaults.get(method, []))
        token = [("csrf_token", who.browser.token)] if method != "GET" and who.browser.token else []
        # the route's own fields, and three of the arguments any page might read
        fields = sorted(route.fields | set(rng.sample(COMMON_ARGS, 3)))
        for field in fields if depth == THOROUGH else rng.sample(fields, 1):
            value = self.hostile(field)
            if method == "GET" or rng.random() < 0.3:
                sep = "&" if "?" in base else "?"
                url = base + sep + query_string([(field, value)])
                self.send(who, route, method, caller, "query", field, value, url,
                          **self.body(route, method, defaults, token))
            elif route.json_body:
                self.send(who, route, method, caller, "json", field, value, base,
                          data=json.dumps({field: value}), content_type="application/json")
            else:
                pairs = [(k, v) for k, v in defaults if k != field] + [(field, value)] + token
                self.send(who, route, method, caller, "form", field, value, base, data=form_bytes(pairs),
                          content_type="application/x-www-form-urlencoded")
        for variant in {THOROUGH: VARIANTS, SAMPLED: rng.sample(VARIANTS, 1), REFUSED: []}[depth]:
            variant(self, who, route, method, caller, base, defaults, token, fields)

    def body(self, route, method, defaults, token) -> dict:
        if method == "GET":
            return {}
        if route.json_body:
            kind, make = BODIES.get(route.endpoint, ("json", lambda o: {}))
            return {"data": json.dumps(make(self.objects)), "content_type": "application/json"}
        return {"data": form_bytes(defaults + token), "content_type": "application/x-www-form-urlencoded"}


def v_duplicate(fz, who, route, method, caller, base, defaults, token, fields):
    field = fz.rng.choice(fields)
    value = fz.hostile()
    pairs = [(field, "1"), (field, value), (field, value)]
    if method == "GET":
        sep = "&" if "?" in base else "?"
        fz.send(who, route, method, caller, "duplicate", field, value, base + sep + query_string(pairs))
    else:
        fz.send(who, route, method, caller, "duplicate", field, value, base,
                data=form_bytes(defaults + pairs + token), content_type="application/x-www-form-urlencoded")


def v_wrong_type(fz, who, route, method, caller, base, defaults, token, fields):
    if method == "GET":
        return
    if route.json_body:   # a form where JSON belongs
        fz.send(who, route, method, caller, "form-to-json", "-", "bpmn_xml=\x00", base,
                data=form_bytes([("bpmn_xml", "\x00")] + token), content_type="application/x-www-form-urlencoded")
    else:                 # JSON where a form belongs
        body = {name: fz.hostile() for name in fields[:5]}
        fz.send(who, route, method, caller, "json-to-form", "-", body, base, data=json.dumps(body),
                content_type="application/json")


JSON_GARBAGE = ["deep", "deep-object", "not-json", "nan", "surrogate-key", "array"]


def v_json_garbage(fz, who, route, method, caller, base, defaults, token, fields):
    """Every kind of broken JSON to a JSON route, one kind (at random) to the others."""
    for choice in JSON_GARBAGE if route.json_body else [fz.rng.choice(JSON_GARBAGE)]:
        json_garbage(fz, who, route, method, caller, base, choice)


def json_garbage(fz, who, route, method, caller, base, choice):
    depth = 100_000
    body = {"deep": "[" * depth + "]" * depth,
            "deep-object": '{"a":' * depth + "1" + "}" * depth,
            "not-json": '{"bpmn_xml": "<x/>", ',
            "nan": '{"bpmn_xml": NaN, "forms": {"a": Infinity}, "source": NaN}',
            "surrogate-key": '{"\\ud800": "\\udfff", "bpmn_xml": "\\u0000", "source": "\\ud800"}',
            "array": "[1, 2, 3]"}[choice]
    fz.send(who, route, method if method != "GET" else "POST", caller, "json-" + choice, "-", body[:40], base,
            data=body, content_type="application/json")


def v_multipart_garbage(fz, who, route, method, caller, base, defaults, token, fields):
    if method == "GET":
        return
    garbage = bytes(fz.rng.randrange(256) for _ in range(300))
    choice = fz.rng.choice(["no-boundary", "bytes", "truncated"])
    if choice == "no-boundary":
        fz.send(who, route, method, caller, "multipart-no-boundary", "-", "", base, data=garbage,
                content_type="multipart/form-data")
    elif choice == "bytes":
        fz.send(who, route, method, caller, "multipart-garbage", "-", "", base, data=garbage,
                content_type="multipart/form-data; boundary=B")
    else:
        body = (b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                + (token[0][1] if token else "").encode())
        fz.send(who, route, method, caller, "multipart-truncated", "-", "", base, data=body,
                content_type="multipart/form-data; boundary=B")


def v_file_name(fz, who, route, method, caller, base, defaults, token, fields):
    if method == "GET" or route.json_body:
        return
    for field in sorted(route.files) or ["file"]:
        name = fz.rng.choice(FILE_NAMES)
        data = {k: v for k, v in defaults + token}
        data[field] = (io.BytesIO(PDF), name)
        fz.send(who, route, method, caller, "file-name", field, name, base, data=data,
                content_type="multipart/form-data")


def v_path(fz, who, route, method, caller, base, defaults, token, fields):
    for arg in sorted(route.rule.arguments):
        if not isinstance(route.rule._converters[arg], UnicodeConverter):   # <int:> and <any()> match no text
            continue
        value = fz.rng.choice(PATH_HOSTILE)
        values = {a: getattr(fz.objects, ARG_OVERRIDES.get((route.endpoint, a), ARGS.get(a)))
                  for a in route.rule.arguments}
        values[arg] = "MARK"
        url = fz.app.url_map.bind("localhost").build(route.endpoint, values).replace("MARK", encode(value))
        fz.send(who, route, method, caller, "path", arg, value, url, **fz.body(route, method, defaults, token))


def v_cookie(fz, who, route, method, caller, base, defaults, token, fields):
    name = fz.rng.choice([fz.app.config["SESSION_COOKIE_NAME"], "remember_token", "lang"])
    value = fz.rng.choice(["\x00", "a" * 5000, "\u202e", "e30.\x00.x"])
    cookie = f"{name}={encode(value)}; {name}={value.encode('utf-8', 'surrogatepass').decode('latin-1')}"
    fz.send(who, route, "GET" if "GET" in route.rule.methods else method, caller, "cookie", name, value,
            base, headers={"Cookie": cookie}, own_cookies=True)


VARIANTS = [v_duplicate, v_wrong_type, v_json_garbage, v_multipart_garbage, v_file_name, v_path, v_cookie]


class Who:
    def __init__(self, fuzzer, caller):
        self.caller, self.username = caller, USERNAMES.get(caller)
        self.browser = fuzzer.browser(caller)
        self.token_for_api = fuzzer.objects.tokens[self.username] if self.username else None
        self.needs_login = False


def test_no_hostile_value_in_any_field_of_any_route_answers_a_server_error(app, web, world, objects, database_url):
    started = time.monotonic()
    rules = matrix_rules(app)
    json_routes = {e for e, (kind, _) in BODIES.items() if kind == "json"}
    routes = {}
    for rule in rules:
        values = {a: getattr(objects, ARG_OVERRIDES.get((rule.endpoint, a), ARGS.get(a))) for a in rule.arguments}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        routes[rule.endpoint] = Route(rule, url, rule.endpoint in json_routes or rule.endpoint.startswith("api."))
        routes[rule.endpoint].fields |= view_reads(app.view_functions[rule.endpoint])
    fuzzer = Fuzzer(app, web, objects)
    discover(app, routes, {caller: fuzzer.browser(caller) for caller in CALLERS})
    ordered = sorted(routes.values(), key=lambda r: r.rule.rule)
    thorough = {(route.endpoint, method): fuzzer.rng.choice(sorted(access_for(route.endpoint, method).allowed))
                for route in ordered for method in methods_of(route.rule)}

    refused_too = database_url.startswith("sqlite")
    expected = {(route.endpoint, method, caller) for route in ordered for method in methods_of(route.rule)
                for caller in CALLERS if refused_too or caller in access_for(route.endpoint, method).allowed}
    pairs = set()
    for caller in CALLERS:
        who = Who(fuzzer, caller)
        for route in ordered:
            for method in methods_of(route.rule):
                if who.needs_login:
                    who.browser, who.needs_login = fuzzer.browser(caller), False
                depth = (THOROUGH if thorough[route.endpoint, method] == caller else
                         SAMPLED if caller in access_for(route.endpoint, method).allowed else REFUSED)
                if (route.endpoint, method, caller) not in expected:
                    continue
                before = fuzzer.sent
                fuzzer.fuzz_route(who, route, method, caller, depth)
                if fuzzer.sent > before:
                    pairs.add((route.endpoint, method, caller))
    seconds = time.monotonic() - started
    print(f"\nhostile-input fuzz: {fuzzer.sent} requests over {len(routes)} routes and {len(CALLERS)} callers "
          f"({len(pairs)} of {len(expected)} route x method x caller triples) in {seconds:.0f} s "
          f"(seed {SEED}); {len(fuzzer.failures)} server errors")
    assert pairs == expected, "every route, method and caller gets hostile values"
    assert fuzzer.sent > 1000
    assert not fuzzer.failures, (f"{len(fuzzer.failures)} of {fuzzer.sent} hostile requests answered a server "
                                 "error:\n" + "\n".join(fuzzer.failures))
