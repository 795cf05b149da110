#!/usr/bin/env python3
"""A SAML 2.0 service provider driven from the command line, for Kakehashi's interop tests.

pysaml2 (PyPI, pinned in scripts/test) plays the SP as a black box; Debian's xmlsec1 checks
every signature. The Rust test `crates/kakehashi/tests/saml_pysaml2.rs` drives the browser
side over plain HTTP and calls this script for the SP's part. Every command prints one JSON
object on stdout; a failure prints {"ok": false, ...} and exits 1.

  saml_sp.py setup     --dir D --entity-id E --acs URL --idp-metadata FILE
                       [--sign-requests] [--want-response-signed] [--want-assertions-signed]
                       [--slo-binding redirect|post]  (its SingleLogoutService's binding)
                       writes D/sp.key, D/sp.crt, D/config.json and D/sp-metadata.xml
  saml_sp.py request   --dir D --binding redirect|post [--relay-state S] [--force-authn]
                       [--is-passive] [--name-id-format URI]
                       [--authn-context URI --comparison exact|minimum|maximum|better]
                       prints {"id", "url"} (redirect) or {"id", "url", "fields"} (post)
  saml_sp.py response  --dir D --saml-response B64 [--request-id ID | --unsolicited]
                       prints what pysaml2 parsed: NameID, attributes, AuthnContext, status
  saml_sp.py logout    --dir D --name-id N --name-id-format F [--name-qualifier Q]
                       [--sp-name-qualifier Q] --session-index S [--relay-state R]
                       prints {"id", "url"}: a LogoutRequest, HTTP-Redirect, query-signed
  saml_sp.py logout-response --dir D (--query Q | --saml-response B64)
                       prints the status pysaml2 parsed from our LogoutResponse (HTTP-Redirect:
                       the query; HTTP-POST: the SAMLResponse field, whose enveloped signature
                       must verify against the IdP's metadata)
  saml_sp.py logout-request --dir D --query Q
                       an IdP-initiated LogoutRequest (HTTP-Redirect, query-signed) as pysaml2
                       reads it (signature checked); prints its NameID and SessionIndex and
                       {"url"}: pysaml2's signed LogoutResponse (Success) back to the IdP
"""

import argparse
import base64
import datetime
import html
import json
import os
import re
import shutil
import sys


def fail(**kw):
    kw["ok"] = False
    print(json.dumps(kw, ensure_ascii=False))
    sys.exit(1)


try:
    import saml2
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.metadata import entity_descriptor
    from saml2.sigver import SignatureError
except ImportError as e:  # pragma: no cover - reported to the Rust test
    fail(error=f"pysaml2 is not installed: {e}; run scripts/test (it creates the venv)")


def xmlsec_binary():
    path = shutil.which("xmlsec1")
    if not path:
        fail(error="xmlsec1 is missing: apt-get install -y xmlsec1")
    return path


def make_key_pair(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 test SP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    with open(os.path.join(d, "sp.key"), "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    with open(os.path.join(d, "sp.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def sp_config(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    conf = {
        "entityid": c["entity_id"],
        "key_file": os.path.join(d, "sp.key"),
        "cert_file": os.path.join(d, "sp.crt"),
        "xmlsec_binary": xmlsec_binary(),
        "metadata": {"local": [c["idp_metadata"]]},
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(c["acs"], BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (
                            c["slo"],
                            BINDING_HTTP_POST
                            if c.get("slo_binding") == "post"
                            else BINDING_HTTP_REDIRECT,
                        )
                    ],
                },
                "authn_requests_signed": c["sign_requests"],
                "want_response_signed": c["want_response_signed"],
                "want_assertions_signed": c["want_assertions_signed"],
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": True,
                "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            }
        },
    }
    cfg = SPConfig()
    cfg.load(conf)
    return cfg, c


def cmd_setup(a):
    os.makedirs(a.dir, exist_ok=True)
    make_key_pair(a.dir)
    c = {
        "entity_id": a.entity_id,
        "acs": a.acs,
        "slo": a.acs.rsplit("/", 1)[0] + "/slo",
        "idp_metadata": os.path.abspath(a.idp_metadata),
        "sign_requests": a.sign_requests,
        "want_response_signed": a.want_response_signed,
        "want_assertions_signed": a.want_assertions_signed,
        "slo_binding": a.slo_binding,
    }
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(c, f)
    cfg, _ = sp_config(a.dir)
    md = str(entity_descriptor(cfg))
    path = os.path.join(a.dir, "sp-metadata.xml")
    with open(path, "w") as f:
        f.write(md)
    print(json.dumps({"ok": True, "metadata": path, "pysaml2": saml2.__version__ if hasattr(saml2, "__version__") else "?"}))


def idp_entity_id(cfg):
    ids = list(cfg.metadata.identity_providers())
    if len(ids) != 1:
        fail(error=f"expected one IdP in the metadata, found {ids}")
    return ids[0]


def cmd_request(a):
    cfg, c = sp_config(a.dir)
    client = Saml2Client(config=cfg)
    binding = BINDING_HTTP_REDIRECT if a.binding == "redirect" else BINDING_HTTP_POST
    kwargs = {}
    if a.force_authn:
        kwargs["force_authn"] = "true"
    if a.is_passive:
        kwargs["is_passive"] = "true"
    if a.authn_context:
        kwargs["requested_authn_context"] = {
            "authn_context_class_ref": [a.authn_context],
            "comparison": a.comparison,
        }
    reqid, info = client.prepare_for_authenticate(
        entityid=idp_entity_id(cfg),
        relay_state=a.relay_state or "",
        binding=binding,
        nameid_format=a.name_id_format,
        sign=c["sign_requests"],
        sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" if c["sign_requests"] else None,
        **kwargs,
    )
    if binding == BINDING_HTTP_REDIRECT:
        url = dict(info["headers"])["Location"]
        print(json.dumps({"ok": True, "id": reqid, "url": url}))
        return
    page = info["data"]
    action = re.search(r'action="([^"]+)"', page)
    fields = dict(
        (m.group(1), html.unescape(m.group(2)))
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    )
    if not action or "SAMLRequest" not in fields:
        fail(error="pysaml2 built no POST form", page=page)
    print(json.dumps({"ok": True, "id": reqid, "url": html.unescape(action.group(1)), "fields": fields}))


def text_of(el):
    return None if el is None else el.text


def cmd_response(a):
    cfg, _ = sp_config(a.dir)
    client = Saml2Client(config=cfg)
    outstanding = {} if a.unsolicited else {a.request_id: "/"}
    xml = base64.b64decode(a.saml_response).decode("utf-8")
    try:
        resp = client.parse_authn_request_response(a.saml_response, BINDING_HTTP_POST, outstanding)
    except Exception as e:  # the status or the check that failed, by class name
        fail(error_class=type(e).__name__, error=str(e), xml=xml)
    if resp is None:
        fail(error_class="NoResponse", error="pysaml2 returned no response", xml=xml)
    assertion = resp.assertion
    subject = resp.get_subject()
    authn = assertion.authn_statement[0] if assertion.authn_statement else None
    print(
        json.dumps(
            {
                "ok": True,
                "issuer": resp.issuer(),
                "in_response_to": resp.in_response_to,
                "name_id": subject.text,
                "name_id_format": subject.format,
                "name_qualifier": subject.name_qualifier,
                "sp_name_qualifier": subject.sp_name_qualifier,
                "ava": resp.ava,
                "authn_context": text_of(authn.authn_context.authn_context_class_ref) if authn else None,
                "session_index": authn.session_index if authn else None,
                "response_signed": resp.response.signature is not None,
                "assertion_signed": assertion.signature is not None,
                "audience": [a.text for c in [assertion.conditions] for r in c.audience_restriction for a in r.audience],
            },
            ensure_ascii=False,
        )
    )


def cmd_logout(a):
    from saml2.saml import NameID

    cfg, _ = sp_config(a.dir)
    client = Saml2Client(config=cfg)
    idp = idp_entity_id(cfg)
    slo = cfg.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    if not slo:
        fail(error="the IdP metadata has no HTTP-Redirect SingleLogoutService")
    destination = slo[0]["location"]
    name_id = NameID(
        text=a.name_id,
        format=a.name_id_format,
        name_qualifier=a.name_qualifier,
        sp_name_qualifier=a.sp_name_qualifier,
    )
    req_id, req = client.create_logout_request(
        destination, idp, name_id=name_id, session_indexes=[a.session_index], sign=False
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(req),
        destination,
        relay_state=a.relay_state or "",
        sign=True,
        sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )
    print(json.dumps({"ok": True, "id": req_id, "url": dict(info["headers"])["Location"]}))


def cmd_logout_response(a):
    from urllib.parse import parse_qs

    cfg, _ = sp_config(a.dir)
    client = Saml2Client(config=cfg)
    if a.saml_response is not None:
        # HTTP-POST (Bindings 3.5): the enveloped signature is the only authentication.
        q = {"RelayState": [a.relay_state]} if a.relay_state is not None else {}
        try:
            xml = base64.b64decode(a.saml_response)
            client.sec.correctly_signed_logout_response(xml, must=True)
            resp = client.parse_logout_request_response(a.saml_response, BINDING_HTTP_POST)
        except Exception as e:
            fail(error_class=type(e).__name__, error=str(e))
    else:
        q = parse_qs(a.query)
        try:
            resp = client.parse_logout_request_response(q["SAMLResponse"][0], BINDING_HTTP_REDIRECT)
        except Exception as e:
            fail(error_class=type(e).__name__, error=str(e))
    if resp is None:
        fail(error_class="NoResponse", error="pysaml2 returned no LogoutResponse")
    status = resp.response.status.status_code.value
    print(
        json.dumps(
            {
                "ok": True,
                "status": status,
                "in_response_to": resp.in_response_to,
                "issuer": resp.issuer(),
                "relay_state": q.get("RelayState", [None])[0],
                "signed_query": "Signature" in q,
                "signed_xml": a.saml_response is not None,
            }
        )
    )


def cmd_logout_request(a):
    from urllib.parse import parse_qs

    from saml2.samlp import STATUS_SUCCESS
    from saml2.s_utils import success_status_factory

    cfg, _ = sp_config(a.dir)
    client = Saml2Client(config=cfg)
    q = parse_qs(a.query)
    for k in ("SAMLRequest", "SigAlg", "Signature", "RelayState"):
        if k not in q:
            fail(error_class="Missing", error=f"{k} is not in the query")
    try:
        req = client.parse_logout_request(
            q["SAMLRequest"][0],
            BINDING_HTTP_REDIRECT,
            relay_state=q["RelayState"][0],
            sigalg=q["SigAlg"][0],
            signature=q["Signature"][0],
        )
    except Exception as e:
        fail(error_class=type(e).__name__, error=str(e))
    if req is None:
        fail(error_class="NoRequest", error="pysaml2 returned no LogoutRequest")
    msg = req.message
    response = client.create_logout_response(
        msg, [BINDING_HTTP_REDIRECT], success_status_factory(), sign=False
    )
    rinfo = client.response_args(msg, [BINDING_HTTP_REDIRECT])
    info = client.apply_binding(
        rinfo["binding"],
        str(response),
        rinfo["destination"],
        q["RelayState"][0],
        response=True,
        sign=True,
        sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )
    print(
        json.dumps(
            {
                "ok": True,
                "id": msg.id,
                "issuer": msg.issuer.text,
                "name_id": msg.name_id.text,
                "name_id_format": msg.name_id.format,
                "session_index": [s.text for s in msg.session_index],
                "destination": msg.destination,
                "url": dict(info["headers"])["Location"],
                "status": STATUS_SUCCESS,
            },
            ensure_ascii=False,
        )
    )


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--dir", required=True)
    s.add_argument("--entity-id", required=True)
    s.add_argument("--acs", required=True)
    s.add_argument("--idp-metadata", required=True)
    s.add_argument("--sign-requests", action="store_true")
    s.add_argument("--want-response-signed", action="store_true")
    s.add_argument("--want-assertions-signed", action="store_true")
    s.add_argument("--slo-binding", choices=["redirect", "post"], default="redirect")
    r = sub.add_parser("request")
    r.add_argument("--dir", required=True)
    r.add_argument("--binding", choices=["redirect", "post"], required=True)
    r.add_argument("--relay-state")
    r.add_argument("--force-authn", action="store_true")
    r.add_argument("--is-passive", action="store_true")
    r.add_argument("--name-id-format")
    r.add_argument("--authn-context")
    r.add_argument("--comparison", default="exact")
    v = sub.add_parser("response")
    v.add_argument("--dir", required=True)
    v.add_argument("--saml-response", required=True)
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--request-id")
    g.add_argument("--unsolicited", action="store_true")
    lo = sub.add_parser("logout")
    lo.add_argument("--dir", required=True)
    lo.add_argument("--name-id", required=True)
    lo.add_argument("--name-id-format", required=True)
    lo.add_argument("--name-qualifier")
    lo.add_argument("--sp-name-qualifier")
    lo.add_argument("--session-index", required=True)
    lo.add_argument("--relay-state")
    lr = sub.add_parser("logout-response")
    lr.add_argument("--dir", required=True)
    lr_in = lr.add_mutually_exclusive_group(required=True)
    lr_in.add_argument("--query")
    lr_in.add_argument("--saml-response")
    lr.add_argument("--relay-state")
    lq = sub.add_parser("logout-request")
    lq.add_argument("--dir", required=True)
    lq.add_argument("--query", required=True)
    a = p.parse_args()
    {
        "setup": cmd_setup,
        "request": cmd_request,
        "response": cmd_response,
        "logout": cmd_logout,
        "logout-response": cmd_logout_response,
        "logout-request": cmd_logout_request,
    }[a.cmd](a)


if __name__ == "__main__":
    main()
