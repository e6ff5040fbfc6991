"""Content credentials: a signed C2PA manifest on exported audio (c2pa-python), and reading one back.

The user's signing identity is made on first use with `cryptography`: a local root certificate and
an ES256 (P-256) signing key + certificate issued by it, stored in the folder the caller gives (the
data directory's `credentials/`; the private keys are written 0600). Validators report such a
self-made chain as "signingCredential.untrusted" (nobody vouches for it) while the signature and
the hash of the audio still verify; a user with a certificate from a trusted CA can drop its
`signer.pem` (chain) and `signer.key` into the folder instead.

WAV, FLAC and MP3 carry the manifest inside the file. Ogg Vorbis/Opus cannot (c2pa has no Ogg
support): the signed manifest store is written beside the file as `<file>.c2pa`; its signature
verifies, but no C2PA tool can check its hash against an Ogg file, so Mynah's JSON sidecar also
records the file's SHA-256.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

EMBEDDABLE = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg"}
SIDECAR_SUFFIX = ".c2pa"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION = "org.mynah.synthesis"


class CredentialsError(RuntimeError):
    """Signing or reading content credentials failed; the message is for the user."""


@dataclass(frozen=True)
class Credentials:
    """What a file's C2PA manifest says, for display."""

    where: str  # "embedded" | "sidecar"
    valid: bool  # signature and (where checkable) the audio's hash verify
    trusted: bool  # the signer's certificate chains to a trusted root
    generator: str
    signer: str
    synthetic: bool  # a c2pa.created action with digitalSourceType trainedAlgorithmicMedia
    details: dict = field(default_factory=dict)  # Mynah's own assertion (model, consent, time, mark)
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        what = "AI-generated" if self.synthetic else "origin stated"
        state = "valid" if self.valid else "INVALID"
        trust = "" if self.trusted else ", signer not in a trust list"
        return f"Content credentials ({self.where}): {what}, by {self.generator}; signature {state}{trust}"


# --- the user's signing identity ------------------------------------------------------------------
def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mynah user")])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def signing_identity(folder: Path) -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM), created in `folder` on first use."""
    folder = Path(folder)
    chain_path, key_path = folder / "signer.pem", folder / "signer.key"
    if chain_path.is_file() and key_path.is_file():
        return chain_path.read_bytes(), key_path.read_bytes()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False,
                 key_agreement=False, encipher_only=False, decipher_only=False)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("Mynah local root")).issuer_name(_name("Mynah local root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("Mynah content credentials")).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    chain = cert.public_bytes(pem) + root.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    root_pem = root_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(folder / "root.key", root_pem)  # kept so the user can issue or revoke later
    (folder / "root.pem").write_bytes(root.public_bytes(pem))
    _write_private(key_path, key_pem)
    chain_path.write_bytes(chain)
    return chain, key_pem


# --- writing --------------------------------------------------------------------------------------
def manifest_for(*, title: str, generator: str, generator_version: str, model: str, voice: str,
                 voice_consent: bool | None, created_iso: str, watermark: dict | None) -> dict:
    """A C2PA manifest definition: 'created by a trained algorithm' plus Mynah's own assertion."""
    return {
        "claim_generator_info": [{"name": generator, "version": generator_version}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": {"name": generator, "version": generator_version}, "when": created_iso}]}},
            {"label": ASSERTION, "data": {
                "synthetic_speech": True, "model": model, "voice": voice, "voice_consent": voice_consent,
                "created": created_iso, "watermark": watermark or {"present": False}}},
        ],
    }


def sign_file(path: Path, manifest: dict, identity_folder: Path) -> str:
    """Sign `path` in place (WAV/FLAC/MP3) or beside it (`<file>.c2pa`); returns "embedded"/"sidecar"."""
    import c2pa

    path = Path(path)
    chain, key = signing_identity(identity_folder)
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
        builder = c2pa.Builder(manifest)
        mime = EMBEDDABLE.get(path.suffix.lower())
        if mime is not None:
            tmp = path.with_name(path.name + ".c2pa-part")
            try:
                with open(path, "rb") as src, open(tmp, "wb") as dst:
                    builder.sign(signer, mime, src, dst)
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
            return "embedded"
        # c2pa reads no Ogg but signs a detached manifest over its bytes (the hash covers the file).
        builder.set_no_embed()
        with open(path, "rb") as src:
            store = builder.sign(signer, "audio/ogg", src, io.BytesIO())
        Path(str(path) + SIDECAR_SUFFIX).write_bytes(store)
        return "sidecar"
    except c2pa.C2paError as exc:
        raise CredentialsError(f"could not sign {path.name} with content credentials: {exc}") from exc


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- reading --------------------------------------------------------------------------------------
def read_credentials(path: Path) -> Credentials | None:
    """The manifest in (or beside) `path`, or None when it has none. Never raises for a plain file."""
    import c2pa

    path = Path(path)
    sidecar = Path(str(path) + SIDECAR_SUFFIX)
    mime = EMBEDDABLE.get(path.suffix.lower())
    report, where = None, "embedded"
    try:
        if mime is not None:
            with open(path, "rb") as f:
                report = json.loads(c2pa.Reader(mime, f).json())
    except c2pa.C2paError:
        report = None  # no manifest in the file (the common case for imported recordings)
    if report is None and sidecar.is_file():
        where = "sidecar"
        try:
            data = sidecar.read_bytes()
            if mime is not None:
                with open(path, "rb") as f:
                    report = json.loads(c2pa.Reader(mime, f, data).json())
            else:
                report = json.loads(c2pa.Reader("application/c2pa", io.BytesIO(data)).json())
        except c2pa.C2paError as exc:
            return Credentials(where=where, valid=False, trusted=False, generator="?", signer="?",
                               synthetic=False, problems=(str(exc),))
    if report is None:
        return None
    return _summarize(report, where, checkable=mime is not None)


def _summarize(report: dict, where: str, *, checkable: bool) -> Credentials:
    active = report.get("manifests", {}).get(report.get("active_manifest", ""), {})
    codes = [s.get("code", "") for s in report.get("validation_status", []) or []]
    # A detached manifest for a format c2pa cannot read cannot have its data hash checked here.
    ignorable = {"signingCredential.untrusted"} | (set() if checkable else {"assertion.dataHash.mismatch"})
    problems = tuple(c for c in codes if c not in ignorable)
    gen = (active.get("claim_generator_info") or [{}])[0]
    synthetic, details = False, {}
    for a in active.get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            synthetic |= any(x.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA
                             for x in a.get("data", {}).get("actions", []))
        elif a.get("label") == ASSERTION:
            details = dict(a.get("data", {}))
    sig = active.get("signature_info", {})
    return Credentials(where=where, valid=not problems, trusted="signingCredential.untrusted" not in codes,
                       generator=f"{gen.get('name', '?')} {gen.get('version', '')}".strip(),
                       signer=sig.get("common_name", "?"), synthetic=synthetic, details=details, problems=problems)
