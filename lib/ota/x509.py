# X.509 certificates, parsed as far as checking a firmware signing certificate needs.
"""    cert = Certificate(der)                  # CertificateError("malformed: ...") when broken
    cert = yield from certificate_steps(der)  # the same, step-wise
    check_signing_certificate(cert, roots, now_s)   # None, or CertificateError(reason)
    yield from check_signing_certificate_steps(cert, roots, now_s)   # the same, step-wise
    checks = signing_checks(cert, roots, now_s)   # or in two: the rules (None: cert is a root),
    yield from vouching_root_steps(checks)        # then the signatures, the certificates let go

The `_steps` forms (here and Certificate.verify_signed_by_steps) are generators that yield
between chunks of the parse or of the signature arithmetic (lib/steps.py): callers on the
event loop await steps.finish(...) and let other tasks run meanwhile.

The signing-certificate rules (OCPP 1.6 security whitepaper, L01 and "Certificate Hierarchy";
RFC 5280 where they are silent):
- the issuer name equals a ManufacturerRootCertificate's subject AND the signature verifies
  with that root's key: directly, no intermediates;
- that root is a CA (basicConstraints cA) and, if it has keyUsage, may sign certificates;
- a self-signed certificate that is not itself one of the roots is refused;
- validity (the certificate's and the root's) is checked only when the clock is set
  (`now_s` is not None, seconds since 2000-01-01 UTC);
- keyUsage, if present, allows digitalSignature; extendedKeyUsage, if present, has codeSigning;
- no critical extension we do not understand; key RSA 2048-4096 bits or EC P-256.

Signatures on certificates: sha256WithRSAEncryption, RSASSA-PSS (SHA-256, MGF1-SHA-256) and
ecdsa-with-SHA256.
"""

import gc
import hashlib

from ota import der
from ota.signature import EC, RSA  # the key types (Certificate.key_type)
from steps import run

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


# An RSA-4096 certificate signed by an RSA-4096 root is about 1.4 KiB; a PEM field in OCPP is
# at most 5500 characters (about 4 KiB of DER). Anything larger is refused before parsing.
MAX_CERT_BYTES = const(4096)

KU_DIGITAL_SIGNATURE = const(1 << 0)
KU_KEY_CERT_SIGN = const(1 << 5)

RSA_PKCS1_SHA256 = "sha256WithRSAEncryption"
RSA_PSS_SHA256 = "RSASSA-PSS-SHA256"
ECDSA_SHA256 = "ecdsa-with-SHA256"

OID_CODE_SIGNING = "1.3.6.1.5.5.7.3.3"
_OID_RSA = "1.2.840.113549.1.1.1"
_OID_SHA256_RSA = "1.2.840.113549.1.1.11"
_OID_PSS = "1.2.840.113549.1.1.10"
_OID_MGF1 = "1.2.840.113549.1.1.8"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OID_EC_KEY = "1.2.840.10045.2.1"
_OID_P256 = "1.2.840.10045.3.1.7"
_OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
_OID_CN = "2.5.4.3"
_OID_BASIC_CONSTRAINTS = "2.5.29.19"
_OID_KEY_USAGE = "2.5.29.15"
_OID_EXT_KEY_USAGE = "2.5.29.37"
_STRING_TAGS = (der.UTF8_STRING, der.PRINTABLE_STRING, der.IA5_STRING, der.T61_STRING,
                der.BMP_STRING)


class CertificateError(Exception):
    """A certificate is malformed or not acceptable; str(e) is the reason. Not a ValueError,
    so callers that wrap parsing errors as "malformed" let these through unchanged."""


def _sha256_algorithm(buf, s, e):
    """True if the AlgorithmIdentifier at buf[s:e] is SHA-256 (parameters NULL or absent)."""
    r = der.Reader(buf, s, e)
    name = der.oid(buf, *r.read(der.OID))
    if r.more():
        der.null(buf, *r.read(der.NULL))
    r.finish()
    return name == _OID_SHA256


def _pss_salt_length(buf, s, e):
    """The salt length of RSASSA-PSS-params that say SHA-256 with MGF1-SHA-256, else None."""
    r = der.Reader(buf, s, e)
    ps, pe = r.read(der.SEQUENCE)
    r.finish()
    r = der.Reader(buf, ps, pe)
    hashed = r.optional(der.explicit(0))
    mgf = r.optional(der.explicit(1))
    salt = r.optional(der.explicit(2))
    trailer = r.optional(der.explicit(3))
    r.finish()
    if hashed is None or mgf is None:  # the defaults are SHA-1
        return None
    h = der.Reader(buf, *hashed)
    if not _sha256_algorithm(buf, *h.read(der.SEQUENCE)):
        return None
    h.finish()
    m = der.Reader(buf, *mgf)
    ms, me = m.read(der.SEQUENCE)
    m.finish()
    m = der.Reader(buf, ms, me)
    if der.oid(buf, *m.read(der.OID)) != _OID_MGF1 or not _sha256_algorithm(
            buf, *m.read(der.SEQUENCE)):
        return None
    m.finish()
    salt_len = 20  # the ASN.1 default
    if salt is not None:
        r = der.Reader(buf, *salt)
        salt_len = der.uint(buf, *r.read(der.INTEGER))
        r.finish()
    if trailer is not None:
        r = der.Reader(buf, *trailer)
        if der.uint(buf, *r.read(der.INTEGER)) != 1:
            return None
        r.finish()
    return salt_len


def _signature_algorithm(buf, s, e):
    """(oid, kind or None when unsupported, PSS salt length) of an AlgorithmIdentifier."""
    r = der.Reader(buf, s, e)
    name = der.oid(buf, *r.read(der.OID))
    if name == _OID_SHA256_RSA:
        if r.more():
            der.null(buf, *r.read(der.NULL))
        r.finish()
        return name, RSA_PKCS1_SHA256, None
    if name == _OID_ECDSA_SHA256:
        r.finish()  # RFC 5758: no parameters
        return name, ECDSA_SHA256, None
    if name == _OID_PSS:
        salt_len = _pss_salt_length(buf, r.pos, r.end)
        return name, None if salt_len is None else RSA_PSS_SHA256, salt_len
    return name, None, None


def _common_name(buf, s, e):
    """The first commonName of the Name whose value is buf[s:e], or ""."""
    rdns = der.Reader(buf, s, e)
    while rdns.more():
        atvs = der.Reader(buf, *rdns.read(der.SET))
        while atvs.more():
            atv = der.Reader(buf, *atvs.read(der.SEQUENCE))
            name = der.oid(buf, *atv.read(der.OID))
            tag, vs, ve = atv.read_any()
            atv.finish()
            if name == _OID_CN and tag in _STRING_TAGS:
                return der.text(tag, buf, vs, ve)
    return ""


def _signature_check(cert, issuer, copy=True):
    """What checking `cert`'s signature with `issuer`'s key needs, and nothing else of the two
    certificates: (kind, key, digest, signature, PSS salt length); `copy` False: the signature
    is a view into cert's DER (the caller keeps the certificate anyway). CertificateError when
    it cannot be checked (unsupported algorithm, a key that does not fit the algorithm)."""
    kind = cert.sig_kind
    if kind is None:
        raise CertificateError("unsupported signature algorithm " + cert.sig_oid)
    if issuer.key_type != (EC if kind == ECDSA_SHA256 else RSA):
        raise CertificateError("issuer key does not fit the signature algorithm")
    return (kind, issuer.key, hashlib.sha256(cert.tbs).digest(),
            bytes(cert.signature) if copy else cert.signature, cert.pss_salt_len)


def _verify_steps(check, work=None):
    """True when the signature of a _signature_check verifies, False when it does not;
    CertificateError for an RSA key size outside 2048-4096 bits."""
    kind, key, digest, signature, salt_len = check
    if kind == ECDSA_SHA256:
        from ota import ecdsa
        return (yield from ecdsa.verify_steps(key, digest, signature, work))
    from ota import rsa
    n, e = key
    # The pow's four 512-byte pieces find their room in a collected heap: at 96 KiB a signed
    # update's request check otherwise failed now and then (what the caller let go is garbage)
    gc.collect()
    try:
        if kind == RSA_PKCS1_SHA256:
            return (yield from rsa.verify_pkcs1v15_steps(n, e, digest, signature))
        return (yield from rsa.verify_pss_steps(n, e, digest, signature, salt_len))
    except ValueError as ex:
        raise CertificateError("issuer key: " + str(ex))


class Certificate:
    """One parsed certificate. Attributes (read them, do not change them):

    der            the certificate (bytes)
    tbs            the signed part, tbsCertificate (memoryview into der)
    serial         serial number (int)
    issuer, subject  the raw DER Names (bytes): compared byte for byte
    issuer_cn, subject_cn  their first commonName, for messages ("" if none)
    not_before, not_after  validity, seconds since 2000-01-01 UTC
    key_type       RSA, EC or None (unsupported; key_oid says which)
    key            (n, e) for RSA, (x, y) for EC P-256
    key_bits       modulus bits for RSA, 256 for EC
    sig_kind       RSA_PKCS1_SHA256, RSA_PSS_SHA256, ECDSA_SHA256 or None (sig_oid says which)
    pss_salt_len   salt length of an RSA_PSS_SHA256 signature
    signature      the signature bytes (memoryview into der)
    ca             basicConstraints cA, None without the extension
    key_usage      KU_* bits, None without the extension
    ext_key_usage  tuple of OIDs, None without the extension
    unknown_critical  OIDs of critical extensions not understood here
    """

    def __init__(self, data, parse=True):
        if len(data) > MAX_CERT_BYTES:
            raise CertificateError("oversized certificate")
        self.der = bytes(data)
        if parse:  # certificate_steps() parses it step by step instead
            run(self._parse_steps())

    def _parse_steps(self):
        try:
            yield from self._parse(memoryview(self.der))
        except (der.DERError, ValueError, IndexError) as e:
            raise CertificateError("malformed: " + str(e))

    def _parse(self, buf):
        """Yields between the parts (some 10 KB of small objects in all: on the firmware's
        heap a garbage collection or two for each part)."""
        der.check(buf)  # the whole structure first: garbage anywhere is refused
        yield
        top = der.Reader(buf)
        cs, ce = top.read(der.SEQUENCE)
        top.finish()
        cert = der.Reader(buf, cs, ce)
        ts, te = cert.element(der.SEQUENCE)
        self.tbs = buf[ts:te]
        alg_s, alg_e = cert.element(der.SEQUENCE)
        outer_alg = bytes(buf[alg_s:alg_e])
        hs, he = header_value(buf, alg_s, alg_e)
        self.sig_oid, self.sig_kind, self.pss_salt_len = _signature_algorithm(buf, hs, he)
        ss, se = der.octets(buf, *cert.read(der.BIT_STRING))
        self.signature = buf[ss:se]
        cert.finish()

        tbs = der.Reader(buf, *header_value(buf, ts, te))
        version = 0
        v = tbs.optional(der.explicit(0))
        if v is not None:
            r = der.Reader(buf, *v)
            version = der.uint(buf, *r.read(der.INTEGER))
            r.finish()
            if version > 2:
                raise CertificateError("malformed: unknown version %d" % (version + 1))
        self.version = version + 1
        self.serial = der.uint(buf, *tbs.read(der.INTEGER))
        inner_s, inner_e = tbs.element(der.SEQUENCE)
        if bytes(buf[inner_s:inner_e]) != outer_alg:  # RFC 5280 4.1.1.2
            raise CertificateError("malformed: signature algorithms differ")
        s, e = tbs.element(der.SEQUENCE)
        self.issuer = bytes(buf[s:e])
        self.issuer_cn = _common_name(buf, *header_value(buf, s, e))
        validity = der.Reader(buf, *tbs.read(der.SEQUENCE))
        tag, s, e = validity.read_any()
        self.not_before = der.time(tag, buf, s, e)
        tag, s, e = validity.read_any()
        self.not_after = der.time(tag, buf, s, e)
        validity.finish()
        s, e = tbs.element(der.SEQUENCE)
        self.subject = bytes(buf[s:e])
        self.subject_cn = _common_name(buf, *header_value(buf, s, e))
        yield
        self._parse_key(buf, *tbs.read(der.SEQUENCE))
        tbs.optional(der.implicit(1))  # issuerUniqueID, subjectUniqueID: unused
        tbs.optional(der.implicit(2))
        self.ca = None
        self.key_usage = None
        self.ext_key_usage = None
        self.unknown_critical = []
        ext = tbs.optional(der.explicit(3))
        tbs.finish()
        if ext is not None:
            if self.version != 3:
                raise CertificateError("malformed: extensions in a version %d certificate"
                                       % self.version)
            yield
            r = der.Reader(buf, *ext)
            self._parse_extensions(buf, *r.read(der.SEQUENCE))
            r.finish()

    def _parse_key(self, buf, s, e):
        spki = der.Reader(buf, s, e)
        alg = der.Reader(buf, *spki.read(der.SEQUENCE))
        ks, ke = der.octets(buf, *spki.read(der.BIT_STRING))
        spki.finish()
        self.public_key_bits = bytes(buf[ks:ke])  # hashed for OCPP's issuerKeyHash
        self.key_oid = der.oid(buf, *alg.read(der.OID))
        self.key_type = None
        self.key = None
        self.key_bits = 0
        if self.key_oid == _OID_RSA:
            if alg.more():
                der.null(buf, *alg.read(der.NULL))
            alg.finish()
            top = der.Reader(buf, ks, ke)
            r = der.Reader(buf, *top.read(der.SEQUENCE))
            top.finish()
            ns, ne = r.read(der.INTEGER)
            n = der.uint(buf, ns, ne)
            exponent = der.uint(buf, *r.read(der.INTEGER))
            r.finish()
            self.key_type = RSA
            self.key = (n, exponent)
            self.key_bits = der.uint_bits(buf, ns, ne)
        elif self.key_oid == _OID_EC_KEY:
            curve = der.oid(buf, *alg.read(der.OID))
            alg.finish()
            if curve != _OID_P256:
                self.key_oid += " (curve " + curve + ")"
                return
            from ota import ecdsa  # only EC certificates load the curve code
            self.key_type = EC
            self.key = ecdsa.decode_point(bytes(buf[ks:ke]))  # ValueError off the curve
            self.key_bits = 256

    def _parse_extensions(self, buf, s, e):
        exts = der.Reader(buf, s, e)
        if not exts.more():
            raise CertificateError("malformed: empty extensions")
        seen = []
        while exts.more():
            ext = der.Reader(buf, *exts.read(der.SEQUENCE))
            name = der.oid(buf, *ext.read(der.OID))
            critical = False
            b = ext.optional(der.BOOLEAN)
            if b is not None:  # an explicit FALSE breaks DER's DEFAULT rule, but is harmless
                critical = der.boolean(buf, *b)
            vs, ve = ext.read(der.OCTET_STRING)
            ext.finish()
            if name in seen:
                raise CertificateError("malformed: duplicate extension " + name)
            seen.append(name)
            top = der.Reader(buf, vs, ve)
            if name == _OID_BASIC_CONSTRAINTS:
                r = der.Reader(buf, *top.read(der.SEQUENCE))
                b = r.optional(der.BOOLEAN)
                self.ca = b is not None and der.boolean(buf, *b)
                if r.more():
                    der.uint(buf, *r.read(der.INTEGER))  # pathLenConstraint: no chains here
                r.finish()
            elif name == _OID_KEY_USAGE:
                unused, bs, be = der.bit_string(buf, *top.read(der.BIT_STRING))
                if be - bs > 2:
                    raise CertificateError("malformed: keyUsage too long")
                bits = 0
                for i in range(bs, be):  # named bit k is the k-th bit from the left
                    byte = buf[i]
                    for k in range(8):
                        if byte & (0x80 >> k):
                            bits |= 1 << ((i - bs) * 8 + k)
                self.key_usage = bits
            elif name == _OID_EXT_KEY_USAGE:
                r = der.Reader(buf, *top.read(der.SEQUENCE))
                usages = []
                while r.more():
                    usages.append(der.oid(buf, *r.read(der.OID)))
                if not usages:
                    raise CertificateError("malformed: empty extendedKeyUsage")
                self.ext_key_usage = tuple(usages)
            else:
                if critical:
                    self.unknown_critical.append(name)
                continue
            top.finish()

    def is_self_issued(self):
        return self.issuer == self.subject

    def verify_signed_by(self, issuer):
        """True when `issuer`'s key verifies this certificate's signature, False when it does
        not; CertificateError when it cannot be checked (unsupported algorithm, a key that does
        not fit the algorithm, an RSA key size outside 2048-4096 bits)."""
        return run(self.verify_signed_by_steps(issuer))

    def verify_signed_by_steps(self, issuer, work=None):
        """verify_signed_by as a generator (lib/steps.py); `work` a buffer lent for the ECDSA
        workspace (ota.ecfast), or None."""
        return (yield from _verify_steps(_signature_check(self, issuer, False), work))

    def __repr__(self):
        return "<Certificate %r issued by %r>" % (self.subject_cn, self.issuer_cn)


def certificate_steps(data):
    """Certificate(data) as a generator (lib/steps.py): it yields between the parts of the
    parse and returns the Certificate."""
    cert = Certificate(data, parse=False)
    yield from cert._parse_steps()
    return cert


def header_value(buf, start, end):
    """(value_start, value_end) of the element that fills buf[start:end] exactly."""
    _, s, e = der.header(buf, start, end)
    return s, e


def load_certificates(data):
    """Certificates from PEM text (one or several) or one DER certificate (bytes starting
    with a SEQUENCE tag). CertificateError("malformed: ...") when they cannot be read."""
    if isinstance(data, (bytes, bytearray)) and data[:1] == b"\x30":
        return [Certificate(data)]
    try:
        ders = der.pem_to_der(data)
    except der.DERError as e:
        raise CertificateError("malformed: " + str(e))
    return [Certificate(d) for d in ders]


def _root_problem(root, now_s):
    """Why `root` may not sign certificates, or None."""
    if root.ca is not True:
        return "manufacturer root is not a CA"
    if root.key_usage is not None and not root.key_usage & KU_KEY_CERT_SIGN:
        return "manufacturer root may not sign certificates"
    if now_s is not None and now_s > root.not_after:
        return "manufacturer root expired"
    if now_s is not None and now_s < root.not_before:
        return "manufacturer root not yet valid"
    return None


def check_signing_certificate(cert, roots, now_s=None):
    """None when `cert` may sign firmware under the manufacturer `roots` (Certificates);
    CertificateError(reason) otherwise. `now_s`: seconds since 2000-01-01 UTC, or None while
    the clock is not set (validity is then not checked). Cheap checks come first; the
    signature (the slow part) is checked only against roots whose subject is the issuer."""
    run(check_signing_certificate_steps(cert, roots, now_s))
    return None


def check_signing_certificate_steps(cert, roots, now_s=None, work=None):
    """check_signing_certificate as a generator (lib/steps.py). It returns what
    vouching_root_steps returns (None when `cert` is a root itself). `work`: a buffer lent
    for the ECDSA workspace (ota.ecfast), or None."""
    checks = signing_checks(cert, roots, now_s)
    if checks is None:
        return None
    return (yield from vouching_root_steps(checks, work))


def signing_checks(cert, roots, now_s=None):
    """The rules of check_signing_certificate but the signature, then what is left to check:
    for each root whose subject is the issuer, (what its signature check needs, why the root
    may not vouch or None, the root's (SHA-256 of its DER, not_before, not_after)). None
    when `cert` is one of the roots. CertificateError when a rule is broken. The result holds
    nothing of the certificates' DER: a caller short of heap lets them go before
    vouching_root_steps (an RSA check's pow is the peak of a firmware update's heap)."""
    if cert.key_type is None:
        raise CertificateError("unsupported public key " + cert.key_oid)
    if cert.key_type == RSA:
        if not 2048 <= cert.key_bits <= 4096:
            raise CertificateError("unsupported RSA key size %d bits" % cert.key_bits)
        e = cert.key[1]
        if e < 3 or not e & 1 or e >> 32:  # as ota.rsa: refuse now, not after the download
            raise CertificateError("unsupported RSA public exponent")
    if cert.unknown_critical:
        raise CertificateError("unsupported critical extension " + cert.unknown_critical[0])
    is_root = False
    for root in roots:
        if root.der == cert.der:
            is_root = True
    if not is_root and cert.is_self_issued():
        raise CertificateError("self-signed certificate is not a manufacturer root")
    candidates = [root for root in roots if root.subject == cert.issuer]
    if not is_root and not candidates:
        raise CertificateError("not signed by a manufacturer root")
    if now_s is not None:
        if now_s < cert.not_before:
            raise CertificateError("not yet valid")
        if now_s > cert.not_after:
            raise CertificateError("expired")
    if cert.key_usage is not None and not cert.key_usage & KU_DIGITAL_SIGNATURE:
        raise CertificateError("key usage does not allow code signing")
    if cert.ext_key_usage is not None and OID_CODE_SIGNING not in cert.ext_key_usage:
        raise CertificateError("extended key usage does not allow code signing")
    if is_root:
        return None  # a trust anchor itself: nothing above it to check
    checks = []
    for root in candidates:
        try:
            check = _signature_check(cert, root)
        except CertificateError as e:
            check = str(e)  # the reason, told in turn by vouching_root_steps
        checks.append((check, _root_problem(root, now_s),
                       (hashlib.sha256(root.der).digest(), root.not_before, root.not_after)))
    return checks


def vouching_root_steps(checks, work=None):
    """A generator (lib/steps.py) over signing_checks(...): the first root whose signature
    verifies and that may vouch, as (SHA-256 of its DER, not_before, not_after);
    CertificateError when there is none. The signatures are checked in the roots' order."""
    problem = None
    for check, why, root in checks:
        if isinstance(check, str):
            problem = problem or check
            continue
        try:
            if not (yield from _verify_steps(check, work)):
                continue
        except CertificateError as e:
            problem = problem or str(e)
            continue
        if why is None:
            return root
        problem = why
    raise CertificateError(problem or "not signed by a manufacturer root")
