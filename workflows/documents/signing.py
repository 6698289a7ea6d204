"""Signing decisions with the office's certificate (pyHanko, PAdES, SHA-256), shown as its red seal.

The certificate comes from CREDFLOW_SIGNING_P12 (+ _PASSWORD) or CREDFLOW_SIGNING_KEY and
CREDFLOW_SIGNING_CERT (PEM). Without them a self-signed demo certificate is created once in the
instance folder (signing/office.p12): fine for a demo, not for production."""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from cryptography.utils import CryptographyDeprecationWarning

# pyHanko 0.38 imports cryptography's DSA key type, which cryptography 51 marks deprecated; we sign
# with RSA only, and the warning would otherwise end up in every command's output (verify-audit).
warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning)

_lock = threading.Lock()


def _instance() -> Path:
    from ..db import instance_folder
    return instance_folder()


def ensure_demo_certificate(office_name: str) -> Path:
    """A self-signed office certificate in the instance folder, made on first use."""
    path = _instance() / "signing" / "office.p12"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name.encode()[:64].decode(errors="ignore")),
                      x509.NameAttribute(NameOID.COMMON_NAME, "电子印章演示证书")])   # a demo's, not an office's
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    tmp = path.with_suffix(f".part-{os.getpid()}")
    tmp.write_bytes(pkcs12.serialize_key_and_certificates(b"office", key, cert, None,
                                                          serialization.NoEncryption()))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # atomic: if another process made one first, everybody uses that one
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path


@lru_cache(maxsize=4)
def _signer(office_name: str, source: tuple):
    from pyhanko.sign import signers
    kind, *paths = source
    if kind == "pem":
        return signers.SimpleSigner.load(paths[0], paths[1])
    password = os.environ.get("CREDFLOW_SIGNING_P12_PASSWORD")
    return signers.SimpleSigner.load_pkcs12(paths[0], passphrase=password.encode() if password else None)


def signer(office_name: str):
    env = os.environ
    if env.get("CREDFLOW_SIGNING_KEY") and env.get("CREDFLOW_SIGNING_CERT"):
        source = ("pem", env["CREDFLOW_SIGNING_KEY"], env["CREDFLOW_SIGNING_CERT"])
    else:
        with _lock:
            p12 = env.get("CREDFLOW_SIGNING_P12") or str(ensure_demo_certificate(office_name))
        source = ("p12", p12)
    return _signer(office_name, source)


def office_certificate(office_name: str):
    """The signing certificate (asn1crypto), the trust root when verifying our own documents."""
    return signer(office_name).signing_cert


def sign_pdf(pdf: bytes, office_name: str, box: tuple[float, float, float, float], page: int,
             reason: str) -> bytes:
    """PAdES signature over the whole file, shown as the office's red round seal in `box` (the seal
    image is drawn once per process: workflows/documents/seal.py); like a paper seal it carries
    the office's name only, the document's number and date being printed on the page."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    from .seal import seal_content

    x1, y1, x2, y2 = box
    style = StaticStampStyle(background=seal_content(office_name, x2 - x1, y2 - y1), border_width=0,
                             background_opacity=1.0,
                             background_layout=layout.SimpleBoxLayoutRule(
                                 x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                                 margins=layout.Margins.uniform(0)))
    meta = signers.PdfSignatureMetadata(field_name="OfficeSeal", subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location=office_name,
                                        name=office_name)
    pdf_signer = signers.PdfSigner(meta, signer(office_name), stamp_style=style,
                                   new_field_spec=fields.SigFieldSpec("OfficeSeal", on_page=page, box=box))

    return outside_event_loop(lambda: pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                                                          bytes_reserved=16384).getvalue())


def sign_detached(data: bytes, office_name: str) -> bytes:
    """A detached CMS signature (DER) over `data` with the office's key (an audit checkpoint)."""
    office = signer(office_name)
    return outside_event_loop(lambda: asyncio.run(office.async_sign_general_data(data, "sha256", detached=True))).dump()


def verify_detached(data: bytes, signature: bytes, office_name: str) -> bool:
    """Is `signature` a valid detached CMS signature over exactly `data` by the office's certificate?"""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext
    trust = ValidationContext(trust_roots=[office_certificate(office_name)])
    try:
        signed_data = cms.ContentInfo.load(bytes(signature))["content"]
        status = outside_event_loop(lambda: asyncio.run(async_validate_detached_cms(
            data, signed_data, signer_validation_context=trust)))
        return bool(status.bottom_line)
    except Exception:  # noqa: BLE001 -- an unreadable or forged signature is simply not valid
        return False


def outside_event_loop(fn):
    """pyHanko's signing and validation run their own event loop; where one already runs in this
    thread (an async server, a browser-test session), call them from another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()
