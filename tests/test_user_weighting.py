"""User weightings as formulas: the evaluator refuses code before running anything, the
definitions are checked at every timestep, and the space conversions keep the objective."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from harness.diffusion import formula as formula_module
from harness.diffusion import weight
from harness.diffusion.formula import FormulaError, parse_formula
from harness.diffusion.schedule import alphas_cumprod, get_named_beta_schedule, snr
from harness.diffusion.user_weighting import (
    VARIABLES,
    DefinitionError,
    check_on_schedule,
    from_config,
)

S = snr(alphas_cumprod(get_named_beta_schedule("linear", 1000)))


@pytest.fixture
def no_evaluation(monkeypatch):
    """Fails the test if any part of a formula is evaluated."""
    def refuse(*_args):
        raise AssertionError("a refused formula was evaluated")
    monkeypatch.setattr(formula_module, "_evaluate", refuse)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('touch {marker}')", "attribute access ('__import__"),
    ("__import__('os')", "unknown function '__import__'"),
    ("snr.__class__", "attribute access"),
    ("(1).__class__.__bases__", "attribute access"),
    ("(lambda: 1)()", "lambda ('lambda: 1') is not allowed"),
    ("lambda s: s", "lambda"),
    ("[s for s in snr]", "comprehensions"),
    ("sum(s for s in snr)", "unknown function 'sum'"),
    ("exec('1')", "unknown function 'exec'"),
    ("snr[0]", "indexing"),
    ("'a' * 3", "is not a number"),
    ("snr if t else 1", "if-else"),
    ("snr > 1", "comparisons"),
    ("exp(x=snr)", "positional arguments only"),
    ("(y := 3)", "assignment"),
    ("snr @ snr", "operator"),
    ("True * snr", "is not a number"),
])
def test_code_is_refused_before_anything_runs(tmp_path, no_evaluation, text, message):
    marker = tmp_path / "ran"
    with pytest.raises(FormulaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_formula(text.format(marker=marker), VARIABLES)
    assert not marker.exists()


def test_huge_powers_are_refused_without_taking_them(monkeypatch):
    taken = []

    def recording_power(base, exponent):
        taken.append(float(np.max(np.abs(exponent))))
        return np.power(base, exponent)

    monkeypatch.setitem(formula_module._BINARY, ast.Pow, recording_power)
    for text in ("10**10**10", "2**(10**3)", "snr**1000", "snr**(gamma*100)"):
        with pytest.raises(FormulaError, match="exponent"):
            parse_formula(text, VARIABLES, {"gamma": 1.0})
    with pytest.raises(FormulaError, match="depends on 't'"):
        parse_formula("snr**t", VARIABLES)
    with pytest.raises(FormulaError, match="not a function call"):
        parse_formula("snr**exp(1)", VARIABLES)
    # Folding the constant exponents took only powers within the bound.
    assert taken and max(taken) <= formula_module.MAX_EXPONENT
    assert parse_formula("1/(k + snr)**gamma", VARIABLES, {"k": 1.0, "gamma": 0.5})


@pytest.mark.parametrize("text, message", [
    ("1/sqrt(", "syntax error at column"),
    ("snrr + 1", "unknown name 'snrr'"),
    ("gamma * snr", "unknown name 'gamma'"),
    ("softmin(snr, 5)", "unknown function 'softmin'"),
    ("exp", "'exp' is a function"),
    ("min(snr)", "min(...) takes 2 to 8 argument(s), got 1"),
    ("sqrt(snr, 2)", "sqrt(...) takes 1 argument(s), got 2"),
    ("", "is empty"),
    ("snr + " * 80 + "1", "characters long"),
    ("+".join(["1"] * 150), "parts"),
    ("1" + "0" * 330, "is too large"),
])
def test_malformed_formulas_say_what_is_wrong(no_evaluation, text, message):
    with pytest.raises(FormulaError) as err:
        parse_formula(text, VARIABLES)
    assert message in str(err.value)


def test_formulas_evaluate_in_float64_as_numpy_does():
    t = np.arange(1000, dtype=np.float64)
    values = {"snr": S, "logsnr": np.log(S), "t": t, "T": 1000.0}
    debias = parse_formula("1/sqrt(snr)", VARIABLES).evaluate(values)
    assert debias.dtype == np.float64 and np.array_equal(debias, 1.0 / np.sqrt(S))
    sig = parse_formula("sigmoid(b - logsnr)", VARIABLES, {"b": -3.0})
    np.testing.assert_array_equal(sig.evaluate({**values, "b": -3.0}),
                                  1.0 / (1.0 + np.exp(-(-3.0 - np.log(S)))))
    lin = parse_formula("1 - t/T + min(snr, 5, 2)", VARIABLES).evaluate(values)
    np.testing.assert_array_equal(lin, 1.0 - t / 1000.0 + np.minimum(np.minimum(S, 5.0), 2.0))
    clipped = parse_formula("clip(logsnr, -2, 2)", VARIABLES).evaluate(values)
    assert clipped.min() == -2.0 and clipped.max() == 2.0


def _config(entry, name="mine"):
    w = from_config(name, entry)
    check_on_schedule(w, 1000, "linear")
    return w


@pytest.mark.parametrize("entry, key, message", [
    ({"formula": "1/sqrt(snr)"}, "space", "missing"),
    ({"space": "v", "formula": "1"}, "space", "'v' is not one of eps, x0"),
    ({"space": "eps"}, "formula", "missing"),
    ({"space": "eps", "formula": "1/sqrt(snr", "label": "x"}, "formula", "syntax error"),
    ({"space": "eps", "formula": "t - 100"}, "formula", "negative at t = 0"),
    ({"space": "eps", "formula": "sqrt(t - 500)"}, "formula", "NaN at t = 0"),
    ({"space": "eps", "formula": "1/(t - 3)"}, "formula", "infinite at t = 3"),
    ({"space": "eps", "formula": "0*snr"}, "formula", "0 at every timestep"),
    ({"space": "eps", "formula": "exp(snr)"}, "formula", "infinite at t = 0"),
    ({"space": "eps", "formula": "1", "density": "t - 1"}, "density", "negative at t = 0"),
    ({"space": "eps", "formula": "1", "density": "t"}, "density", "density is 0 at t = 0"),
    ({"space": "eps", "formula": "g", "params": {"g": "x"}}, "params.g", "not a finite"),
    ({"space": "eps", "formula": "snr", "params": {"exp": 1}}, "params.exp", "identifier"),
    ({"space": "eps", "formula": "1", "weight": 2}, "weight", "unknown key"),
])
def test_bad_definitions_name_the_key(entry, key, message):
    with pytest.raises(DefinitionError) as err:
        _config(entry)
    assert err.value.key == key and message in err.value.reason, str(err.value)


def test_a_builtin_name_is_refused():
    with pytest.raises(DefinitionError, match="'debias' is a built-in weighting"):
        from_config("debias", {"space": "eps", "formula": "1/sqrt(snr)"})
    with pytest.raises(DefinitionError, match="lower-case"):
        from_config("Mine-2", {"space": "eps", "formula": "1"})


@pytest.mark.parametrize("space, text, builtin", [
    ("eps", "1/sqrt(snr)", "debias"),
    ("x0", "min(snr, 5)", "min_snr"),
    ("eps", "1/(1 + snr)", "p2"),
    ("x0", "snr + 4", "edm"),
])
@pytest.mark.parametrize("target", ["eps", "x0", "v"])
def test_a_formula_equal_to_a_builtin_gives_its_weights_bitwise(space, text, builtin, target):
    w = _config({"space": space, "formula": text})
    assert np.array_equal(w.weights(S, target), weight(builtin, S, target))


@pytest.mark.parametrize("space", ["eps", "x0"])
def test_every_target_optimises_the_same_objective(space):
    """For any prediction, w_eps |eps err|^2 = w_x0 |x0 err|^2 = w_v |v err|^2 per timestep:
    the conversions eps <-> x0 <-> v of weighting.convert, on real errors."""
    w = _config({"space": space, "formula": "exp(-t/T) + 1/(2 + logsnr**2)"})
    rng = np.random.default_rng(0)
    abar = S / (1 + S)
    x0, eps = rng.normal(size=(2, 1000, 8))
    x0_hat = x0 + rng.normal(size=(1000, 8))  # a prediction, expressed in each target
    a, b = np.sqrt(abar)[:, None], np.sqrt(1 - abar)[:, None]
    x_t = a * x0 + b * eps
    eps_hat = (x_t - a * x0_hat) / b
    v, v_hat = a * eps - b * x0, a * eps_hat - b * x0_hat
    losses = {target: w.weights(S, target) * ((truth - guess) ** 2).sum(axis=1)
              for target, truth, guess in (("eps", eps, eps_hat), ("x0", x0, x0_hat),
                                           ("v", v, v_hat))}
    # float64 round-off of the conversions and of x_t: a few ulps of values up to ~1e5.
    np.testing.assert_allclose(losses["eps"], losses["x0"], rtol=1e-9)
    np.testing.assert_allclose(losses["v"], losses["x0"], rtol=1e-9)


def test_density_is_normalised_and_uniform_without_one():
    w = _config({"space": "eps", "formula": "1", "density": "1/sqrt(snr)"})
    p = w.timestep_density(S)
    np.testing.assert_allclose(p, (1 / np.sqrt(S)) / (1 / np.sqrt(S)).sum(), rtol=1e-15)
    assert _config({"space": "eps", "formula": "1"}).timestep_density(S) is None
