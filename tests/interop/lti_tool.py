#!/usr/bin/env python3
"""An LTI 1.3 tool built on PyPI PyLTI1p3 (pinned in scripts/test), for Kakehashi's interop
tests. PyLTI1p3 is the black box: it validates our login initiation, id_token (signature
against our JWKS, kid, alg, state, nonce, registration, deployment, message claims), builds
the Deep Linking response JWT, and calls our token endpoint (private_key_jwt), NRPS and AGS.
The Rust test `crates/kakehashi/tests/lti_pylti1p3.rs` plays the browser over plain HTTP.

  lti_tool.py keygen --dir D
        writes D/private.pem and D/public.pem (RSA 2048); prints {"public_key": PATH}
  lti_tool.py serve --dir D
        serves on 127.0.0.1 (a free port) and prints {"port": N} once listening. It reads
        D/config.json on each request, so the test can register the tool first:
        {"issuer", "client_id", "deployment_ids", "auth_login_url", "auth_token_url",
         "key_set_url"}

Routes of the tool:
  GET  /jwks    the tool's public keys (PyLTI1p3's own JWK export: kid = RFC 7638 thumbprint)
  GET|POST /login    third-party initiated login → 302 to the platform's auth endpoint
  POST /launch  id_token + state → PyLTI1p3 validates; a resource link launch answers JSON
                {"ok", "message_type", "claims", "members", "lineitem", "grades", "errors"}
                after calling NRPS (all pages) and AGS (find-or-create a line item, post
                7/10 for the launching user, read the results); a deep linking launch
                answers PyLTI1p3's auto-submitting form with the response JWT.
Errors answer 400 {"ok": false, "error": "..."}.
"""

import argparse
import datetime
import html
import json
import os
import sys
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SESSION = {}  # PyLTI1p3's session storage: one browser per tool process


def keygen(d):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    os.makedirs(d, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(d, "private.pem"), "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    pub = os.path.join(d, "public.pem")
    with open(pub, "wb") as f:
        f.write(
            key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
    print(json.dumps({"ok": True, "public_key": pub}))


def tool_conf(d):
    from pylti1p3.tool_config import ToolConfDict

    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    conf = ToolConfDict(
        {
            c["issuer"]: [
                {
                    "default": True,
                    "client_id": c["client_id"],
                    "auth_login_url": c["auth_login_url"],
                    "auth_token_url": c["auth_token_url"],
                    "key_set_url": c["key_set_url"],
                    "key_set": None,
                    "deployment_ids": c["deployment_ids"],
                }
            ]
        }
    )
    with open(os.path.join(d, "private.pem")) as f:
        conf.set_private_key(c["issuer"], f.read(), client_id=c["client_id"])
    with open(os.path.join(d, "public.pem")) as f:
        conf.set_public_key(c["issuer"], f.read(), client_id=c["client_id"])
    return conf, c


def make_classes():
    from pylti1p3.cookie import CookieService
    from pylti1p3.message_launch import MessageLaunch
    from pylti1p3.oidc_login import OIDCLogin
    from pylti1p3.redirect import Redirect
    from pylti1p3.request import Request
    from pylti1p3.session import SessionService

    class DriverRequest(Request):
        def __init__(self, params, cookies):
            self._params = params
            self.cookies = cookies

        @property
        def session(self):
            return SESSION

        def is_secure(self):
            return False

        def get_param(self, key):
            return self._params.get(key)

    class DriverCookies(CookieService):
        def __init__(self, request):
            self._request = request
            self.to_set = {}

        def get_cookie(self, name):
            return self._request.cookies.get(self._cookie_prefix + "-" + name)

        def set_cookie(self, name, value, exp=3600):
            self.to_set[self._cookie_prefix + "-" + name] = str(value)

    class DriverRedirect(Redirect):
        def __init__(self, location):
            self._location = location

        def do_redirect(self):
            return self._location

        def do_js_redirect(self):
            return self._location

        def set_redirect_url(self, location):
            self._location = location

        def get_redirect_url(self):
            return self._location

    class DriverLogin(OIDCLogin):
        def get_redirect(self, url):
            return DriverRedirect(url)

    class DriverLaunch(MessageLaunch):
        def _get_request_param(self, key):
            return self._request.get_param(key)

    return DriverRequest, DriverCookies, SessionService, DriverLogin, DriverLaunch


class Handler(BaseHTTPRequestHandler):
    tool_dir = None

    def log_message(self, fmt, *args):
        # Quiet: stdout carries the port line only; failures are reported in the answers.
        pass

    def _params(self):
        u = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8")
            params.update(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))
        return u.path, params

    def _cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                out[k] = v
        return out

    def _send(self, status, body, ctype="application/json", headers=()):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def _route(self):
        path, params = self._params()
        try:
            conf, c = tool_conf(self.tool_dir)
            Req, Cookies, Session, Login, Launch = make_classes()
            req = Req(params, self._cookies())
            cookies = Cookies(req)
            if path == "/jwks":
                jwks = conf.get_jwks(c["issuer"], c["client_id"])
                return self._send(200, json.dumps(jwks))
            if path == "/login":
                login = Login(req, conf, Session(req), cookies)
                base = "http://%s" % self.headers.get("Host")
                location = login.redirect(base + "/launch")
                headers = [("Location", location)]
                for k, v in cookies.to_set.items():
                    headers.append(("Set-Cookie", "%s=%s; Path=/; HttpOnly" % (k, v)))
                return self._send(302, "", "text/plain", headers)
            if path == "/launch":
                launch = Launch(req, conf, Session(req), cookies)
                data = launch.get_launch_data()
                if launch.is_deep_link_launch():
                    return self._deep_link(launch)
                return self._send(200, json.dumps(self._resource(launch, data), ensure_ascii=False))
            return self._send(404, json.dumps({"ok": False, "error": "no route " + path}))
        except Exception as e:  # reported to the Rust test, which judges
            return self._send(
                400,
                json.dumps(
                    {"ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()},
                    ensure_ascii=False,
                ),
            )

    def _resource(self, launch, data):
        from pylti1p3.grade import Grade
        from pylti1p3.lineitem import LineItem

        out = {"ok": True, "message_type": data.get("https://purl.imsglobal.org/spec/lti/claim/message_type"), "claims": data, "errors": []}
        if launch.has_nrps():
            try:
                out["members"] = launch.get_nrps().get_members()
            except Exception as e:
                out["errors"].append("nrps: %s: %s" % (type(e).__name__, getattr(e, "response", e)))
        if launch.has_ags():
            try:
                ags = launch.get_ags()
                li = ags.find_or_create_lineitem(
                    LineItem().set_tag("quiz-1").set_score_maximum(10).set_label("小テスト 1").set_resource_id("quiz-1")
                )
                out["lineitem"] = li.get_id()
                now = datetime.datetime.now(datetime.timezone.utc).isoformat()
                grade = (
                    Grade()
                    .set_score_given(7)
                    .set_score_maximum(10)
                    .set_timestamp(now)
                    .set_activity_progress("Completed")
                    .set_grading_progress("FullyGraded")
                    .set_user_id(data["sub"])
                    .set_comment("よくできました")
                )
                ags.put_grade(grade, li)
                out["grades"] = ags.get_grades(li)
                out["lineitems"] = ags.get_lineitems()
            except Exception as e:
                resp = getattr(e, "response", None)
                detail = "%s %s" % (resp.status_code, resp.text) if resp is not None else str(e)
                out["errors"].append("ags: %s: %s" % (type(e).__name__, detail))
        return out

    def _deep_link(self, launch):
        from pylti1p3.deep_link_resource import DeepLinkResource
        from pylti1p3.lineitem import LineItem

        base = "http://%s" % self.headers.get("Host")
        resources = [
            DeepLinkResource()
            .set_url(base + "/launch?item=fractions")
            .set_title("分数のドリル")
            .set_custom_params(
                {
                    "unit": "fractions",
                    # LTI Core 1.3 Appendix C variables the platform fills in at launch.
                    "learner": "$User.id",
                    "class_title": "$Context.title",
                    "roles": "$Membership.role",
                    "learner_name": "$Person.name.full",
                }
            )
            .set_lineitem(LineItem().set_label("分数のドリル").set_score_maximum(20).set_tag("fractions")),
            DeepLinkResource().set_url(base + "/launch?item=kanji").set_title("漢字の書き取り"),
        ]
        form = launch.get_deep_link().output_response_form(resources)
        return self._send(200, form, "text/html; charset=utf-8")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen")
    k.add_argument("--dir", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    a = ap.parse_args()
    if a.cmd == "keygen":
        return keygen(a.dir)
    Handler.tool_dir = a.dir
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
