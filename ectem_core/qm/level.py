"""Levels of theory: method, basis, frozen core, reference, occupations.

Method names: 'hf', 'ccsd', 'ccsd(t)', or any libxc functional known to PySCF
(e.g. 'svwn5', 'pbe0'; also written 'dft:pbe0'). Basis names: anything PySCF knows
(e.g. 'aug-cc-pvtz', 'aug-cc-pcvqz'); 'unc-<name>' for the uncontracted set;
'et:<k>s<m>p<n>d' for an even-tempered set (see `even_tempered`).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, replace

from ..errors import InputError

WAVEFUNCTION_METHODS = ("hf", "ccsd", "ccsd(t)")
REFERENCES = ("auto", "rhf", "uhf", "rohf")
OCCUPATIONS = ("integer", "spherical")
# Names libxc does not know but users write: SVWN5 = Slater exchange + VWN5 correlation
# (libxc's LDA_C_VWN, id 7, is the VWN5 fit), the NIST LDA reference convention.
XC_ALIASES = {"svwn5": "lda,vwn5", "lda-vwn5": "lda,vwn5"}
_ET_RE = re.compile(r"^et:((?:\d+[spdf])+)$")


@dataclass(frozen=True)
class Level:
    """One level of theory.

    occupations='spherical': non-spin-polarized, fractional occupations spread evenly over
    each open shell (the NIST LDA convention); 'integer': ordinary (U/RO)HF/KS + CC."""

    method: str = "hf"
    basis: str = "aug-cc-pvtz"
    frozen_core: bool = True
    reference: str = "auto"
    occupations: str = "integer"
    conv_tol: float = 1e-10
    max_cycle: int = 200
    grid_level: int = 7

    def __post_init__(self):
        object.__setattr__(self, "method", normalize_method(self.method))
        object.__setattr__(self, "basis", self.basis.strip().lower())
        if self.reference not in REFERENCES:
            raise InputError(f"reference {self.reference!r} unknown: use one of {', '.join(REFERENCES)}")
        if self.occupations not in OCCUPATIONS:
            raise InputError(f"occupations {self.occupations!r} unknown: use one of {', '.join(OCCUPATIONS)}")
        if self.occupations == "spherical" and self.method in ("ccsd", "ccsd(t)"):
            raise InputError("occupations 'spherical' (fractional) works with hf or DFT, not coupled cluster")

    @property
    def is_dft(self) -> bool:
        return self.method not in WAVEFUNCTION_METHODS

    @property
    def xc(self) -> str | None:
        return XC_ALIASES.get(self.method, self.method) if self.is_dft else None

    @property
    def correlated(self) -> bool:
        return self.method in ("ccsd", "ccsd(t)")

    def to_dict(self) -> dict:
        return asdict(self)

    def with_(self, **kw) -> "Level":
        return replace(self, **kw)

    def label(self) -> str:
        fc = "/fc" if self.frozen_core and self.correlated else ""
        occ = "/spherical-occ" if self.occupations == "spherical" else ""
        return f"{self.method}/{self.basis}{fc}{occ}"


def normalize_method(method: str) -> str:
    """Lower-case, strip a 'dft:' prefix, and check the name (libxc for DFT)."""
    m = str(method).strip().lower()
    if m.startswith("dft:"):
        m = m[4:]
    if m in WAVEFUNCTION_METHODS:
        return m
    if m in ("ccsd_t", "ccsdt", "ccsd-t"):
        return "ccsd(t)"
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(XC_ALIASES.get(m, m))
    except Exception:
        raise InputError(
            f"unknown method {method!r}: use hf, ccsd, ccsd(t), or a libxc functional name such as svwn5 or pbe0"
        ) from None
    return m


def even_tempered(spec: str, symbol: str) -> dict:
    """Even-tempered uncontracted basis 'et:26s20p6d' for one element as a PySCF basis list.

    Exponents α_k = α_min β^k with α_min = 0.01 and α_max = 2e4·Z² (s), 2e2·Z (p),
    50 (d), 10 (f): wide enough for spherical LDA totals to ~10 µHa (tested vs NIST)."""
    from pyscf import gto

    from ..elements import atomic_number

    m = _ET_RE.match(spec)
    if not m:
        raise InputError(f"bad even-tempered basis {spec!r}: write e.g. 'et:26s20p6d'")
    z = atomic_number(symbol)
    tops = {"s": 2e4 * z * z, "p": 2e2 * z, "d": 50.0, "f": 10.0}
    out = []
    for count, l in re.findall(r"(\d+)([spdf])", m.group(1)):
        k = int(count)
        if k < 1:
            continue
        lo, hi = 0.01, max(tops[l], 0.1)
        beta = (hi / lo) ** (1.0 / max(k - 1, 1))
        out += gto.etbs([("spdf".index(l), k, lo, beta)])
    return out


def load_basis(basis: str, symbol: str):
    """A PySCF basis for `symbol`; raises InputError naming the basis when unknown."""
    from pyscf import gto

    name = basis.strip().lower()
    if name.startswith("et:"):
        return even_tempered(name, symbol)
    uncontract = name.startswith("unc-")
    base = name[4:] if uncontract else name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = gto.basis.load(base, symbol)
    except Exception:
        data = None
    if not data:
        hint = ""
        if symbol in ("K", "Ca") and "cc-p" in base:
            hint = (f" (PySCF has no non-relativistic Dunning basis for {symbol}; the Karlsruhe sets cover it: "
                    "def2-svpd for aug-cc-pvdz, def2-tzvppd for aug-cc-pvtz)")
        raise InputError(
            f"unknown basis {basis!r} for {symbol}{hint}: use a PySCF basis name such as aug-cc-pvtz, "
            "aug-cc-pcvqz, def2-tzvppd, 'unc-<name>' or 'et:26s20p6d'"
        )
    return gto.uncontract(data) if uncontract else data
