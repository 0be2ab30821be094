"""Packed embedding functions F(ρ̄) (zero, Baskes, quintic-Hermite table in ln ρ̄) and their numba
evaluator, returning F, dF/dρ̄, d²F/dρ̄² (hartree, bohr⁻³)."""
from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import InputError
from .daw import DawCurves

FORMS = ("concordance", "daw_spline", "zero")


# ------------------------------------------------------------------------------ evaluators
# An embedding function is packed into one float64 array (usable from numba):
#   [0]                      zero form: F ≡ 0
#   [1, E, ρ̄₀]               Baskes form F = E (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀)
#   [2, t0, Δt, n, h[n], h_t[n], h_tt[n]]
#                            table: F = ρ̄ h(t), t = ln ρ̄, h a quintic Hermite spline on the
#                            uniform knots t0 + kΔt with exact h, dh/dt, d²h/dt² at the knots.
# Below the first knot h continues linearly in t (F ~ ρ̄ ln ρ̄, the Baskes/von Weizsäcker
# onset; F(0) = 0 exactly); above the last knot F continues as the power law c ρ̄^p matching
# F and F' there (p = ρ̄F'/F; when F or F' is not positive there, h continues linearly in t).
# ρ̄ <= 0 gives F = 0; derivatives at ρ̄ < RHO_FLOOR are those at RHO_FLOOR (the slope of a
# ρ̄ ln ρ̄ curve diverges at 0; it always multiplies dρ̄/dR → 0 there).
RHO_FLOOR = 1e-200


@numba.njit(cache=True, error_model="numpy")
def eval_one(rho, packed):
    code = int(packed[0])
    if code == 0:
        return 0.0, 0.0, 0.0
    x = rho if rho > RHO_FLOOR else RHO_FLOOR
    if code == 1:
        E, r0 = packed[1], packed[2]
        lg = math.log(x / r0)
        F = E * (rho / r0) * math.log(rho / r0) if rho > 0.0 else 0.0
        return F, E / r0 * (lg + 1.0), E / (r0 * x)
    t0, dt, n = packed[1], packed[2], int(packed[3])
    h, ht, htt = packed[4:4 + n], packed[4 + n:4 + 2 * n], packed[4 + 2 * n:4 + 3 * n]
    t = math.log(x)
    tn = t0 + (n - 1) * dt
    if t <= t0:
        hv = h[0] + ht[0] * (t - t0)
        F = rho * hv if rho > 0.0 else 0.0
        return F, hv + ht[0], ht[0] / x
    if t >= tn:
        rn = math.exp(tn)
        Fn = rn * h[n - 1]
        dFn = h[n - 1] + ht[n - 1]
        if Fn > 0.0 and dFn > 0.0:
            p = rn * dFn / Fn
            F = Fn * (x / rn) ** p
            return F, p * F / x, p * (p - 1.0) * F / (x * x)
        hv = h[n - 1] + ht[n - 1] * (t - tn)
        return x * hv, hv + ht[n - 1], ht[n - 1] / x
    k = int((t - t0) / dt)
    if k > n - 2:
        k = n - 2
    u = (t - (t0 + k * dt)) / dt
    c0, c1, c2 = h[k], dt * ht[k], 0.5 * dt * dt * htt[k]
    A = h[k + 1] - (c0 + c1 + c2)
    B = dt * ht[k + 1] - (c1 + 2.0 * c2)
    C = dt * dt * htt[k + 1] - 2.0 * c2
    c3 = 10.0 * A - 4.0 * B + 0.5 * C
    c4 = -15.0 * A + 7.0 * B - C
    c5 = 6.0 * A - 3.0 * B + 0.5 * C
    hv = c0 + u * (c1 + u * (c2 + u * (c3 + u * (c4 + u * c5))))
    dh = (c1 + u * (2.0 * c2 + u * (3.0 * c3 + u * (4.0 * c4 + u * 5.0 * c5)))) / dt
    d2h = (2.0 * c2 + u * (6.0 * c3 + u * (12.0 * c4 + u * 20.0 * c5))) / (dt * dt)
    return x * hv, hv + dh, (dh + d2h) / x


@numba.njit(cache=True, error_model="numpy")
def eval_packed(rho, packed):
    """(F, dF/dρ̄, d²F/dρ̄²) of a packed embedding function at the 1-D array rho."""
    m = rho.size
    F, dF, d2F = np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        F[i], dF[i], d2F[i] = eval_one(rho[i], packed)
    return F, dF, d2F


def pack_baskes(A_Ec: float, rho0: float) -> np.ndarray:
    if not (A_Ec >= 0 and rho0 > 0):
        raise InputError(f"Baskes form needs A·E_c >= 0 and rho0 > 0 (got {A_Ec}, {rho0})")
    return np.array([1.0, float(A_Ec), float(rho0)])


def pack_table(t0: float, dt: float, h, ht, htt) -> np.ndarray:
    h, ht, htt = (np.asarray(v, dtype=float) for v in (h, ht, htt))
    if not (h.size == ht.size == htt.size >= 2) or not dt > 0:
        raise InputError("embedding table: need >= 2 knots with h, h_t, h_tt of equal length and dt > 0")
    return np.concatenate([[2.0, float(t0), float(dt), float(h.size)], h, ht, htt])


def table_from_daw(curves: DawCurves, a: float, lam: float) -> dict:
    """Table {t0, dt, h, h_t, h_tt} of F_D(a, λ) from Daw curves on uniform-in-ln ρ̄ knots."""
    rb = curves.rho_bar
    t = np.log(rb)
    dt = float(np.diff(t).mean())
    if not np.allclose(np.diff(t), dt, rtol=1e-9, atol=1e-12):
        raise InputError("embedding table: knots must be uniform in ln rho_bar")
    F, dF, d2F = curves.F(a, lam), curves.dF(a, lam), curves.d2F(a, lam)
    h = F / rb
    ht = dF - h
    htt = rb * d2F - ht
    return {"t0": float(t[0]), "dt": dt, "h": h.tolist(), "h_t": ht.tolist(), "h_tt": htt.tolist()}


def packed_from_record(rec: dict) -> np.ndarray:
    """The packed evaluator array of a stage-3 record (form zero / concordance / daw_spline)."""
    form = rec.get("form")
    if form == "zero":
        return np.array([0.0])
    if form == "concordance":
        return pack_baskes(rec["A_Ec_hartree"], rec["rho0_bar"])
    if form == "daw_spline":
        tb = rec["table"]
        return pack_table(tb["t0"], tb["dt"], tb["h"], tb["h_t"], tb["h_tt"])
    if rec.get("status") == "excluded":
        raise InputError(f"state {rec.get('state_id')} is excluded ({rec.get('reason', '')}): "
                         "it has no embedding function")
    raise InputError(f"embedding record {rec.get('state_id')}: unknown form {form!r} (use one of {', '.join(FORMS)})")


def embedding_function(record: dict):
    """Vectorized F(ρ̄) → (F, dF/dρ̄, d²F/dρ̄²) for a stage-3 record; scalars in, floats out."""
    packed = packed_from_record(record)

    def F(rho_bar):
        arr = np.asarray(rho_bar, dtype=float)
        if np.any(~np.isfinite(arr)):
            raise InputError("embedding function: background density must be finite")
        f, df, d2f = eval_packed(np.ascontiguousarray(np.maximum(arr, 0.0).ravel()), packed)
        if arr.ndim == 0:
            return float(f[0]), float(df[0]), float(d2f[0])
        return f.reshape(arr.shape), df.reshape(arr.shape), d2f.reshape(arr.shape)

    F.packed = packed
    F.form = record.get("form")
    return F


def baskes(rho_bar, A_Ec: float, rho0: float):
    """F_B = A·E_c (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀) and its first two derivatives (arrays)."""
    return embedding_function({"form": "concordance", "A_Ec_hartree": A_Ec, "rho0_bar": rho0})(rho_bar)


