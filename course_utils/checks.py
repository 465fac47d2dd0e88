"""Exercise checkers: run the learner's function and the course's reference on fixed inputs.

    gaussian_kl = checks.check_exercise("gaussian_kl", gaussian_kl, cases)

looks the reference up by the exercise's name in ``REFERENCES`` (so a check cell does not show
which library function holds the answer), prints one line and returns the function the rest of
the notebook should use:

- passed: the learner's own function;
- not attempted (it raises ``NotImplementedError``): the course's reference, with a note, so the
  notebook still runs top to bottom;
- wrong: raises ``ExerciseError`` saying *how* it differs (type, shape, dtype, device, max abs
  error), never the expected values; also when it changed one of its inputs in place (a tensor's
  values or its ``requires_grad`` flag, a module's weights): exercises must leave their inputs alone.

A Python or NumPy number is accepted where the reference returns a 0-d tensor, and
``unordered=True`` accepts the values of a 1-d result in any order (e.g. a pair of eigenvalues).

Each check's outcome (``"passed"``, ``"not attempted"``, ``"wrong"``) is kept in ``OUTCOMES`` by name:
``require_passed(name)``, the autograded cell of an nbgrader assignment (``tools/build_assignments.py``),
fails unless the learner's own function passed, so a notebook that ran on the reference scores nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from course_utils import data, dynamics, gan, hybrids, losses, metrics, oneshot, tempered, toys, variational


class ExerciseError(AssertionError):
    """The learner's answer differs from the reference; the message says how."""


# the last outcome of each exercise's check in this session: "passed", "not attempted" or "wrong"
OUTCOMES: dict[str, str] = {}


def require_passed(name: str) -> None:
    """Raise ``ExerciseError`` unless the last ``check_exercise(name, ...)`` passed on the learner's own
    function (an nbgrader test cell: a crash there scores 0 points, a silent return full points)."""
    outcome = OUTCOMES.get(name, "not checked")
    if outcome != "passed":
        hint = {"not attempted": "the notebook ran on the course's reference; write your own version",
                "not checked": "run the exercise's check cell first"}.get(outcome, "see the check cell's message")
        raise ExerciseError(f"{name}: {outcome} ({hint}).")


def _frechet_terms(mu1, sigma1, mu2, sigma2) -> torch.Tensor:
    return torch.tensor(metrics.frechet_terms(mu1, sigma1, mu2, sigma2), dtype=torch.float64)


# The course's reference for each exercise, by the name its check cell passes (notebook: exercise).
REFERENCES: dict[str, Callable] = {
    "class_means": data.class_means,  # 00
    "koch_distance": losses.koch_distance,  # 01
    "koch_loss": losses.koch_loss,
    "contrastive_loss": losses.contrastive_loss,
    "same_alphabet_share": oneshot.same_alphabet_share,
    "trials_to_tell_apart": oneshot.trials_to_tell_apart,
    "gaussian_kl": variational.gaussian_kl,  # 02
    "mixture_moments": variational.mixture_moments,
    "mc_elbo": variational.mc_elbo,
    "reparameterize": variational.reparameterize,  # 03
    "bernoulli_log_likelihood": variational.bernoulli_log_likelihood,
    "iw_bound": variational.iw_bound,
    "optimal_discriminator": gan.optimal_discriminator,  # 04
    "discriminator_loss": gan.discriminator_loss,
    "generator_loss_saturating": gan.generator_loss_saturating,
    "generator_loss_nonsaturating": gan.generator_loss_nonsaturating,
    "dropped_mode_divergences": gan.dropped_mode_divergences,
    "expected_modes": toys.expected_modes,
    "alternating_jacobian": dynamics.jacobian_alternating,  # 05
    "r1_eigenvalues": dynamics.eigenvalues_r1,
    "fastest_gamma": dynamics.fastest_r1_gamma,
    "r1_term": gan.r1_term,
    "js_estimate": gan.js_estimate,  # 06
    "optimal_critic": metrics.optimal_critic_1d,
    "gradient_penalty": gan.gradient_penalty_fd,  # by finite differences, independent of autograd
    "lambda_schedule": tempered.lambda_schedule,  # 07
    "lens_loss": tempered.lens_loss,
    "lens_push": tempered.lens_push,
    "mixture_nll_bound": variational.mixture_nll_bound,  # 08
    "frechet_terms": _frechet_terms,
    "mc_kl": hybrids.mc_kl,
}

# Other correct answers an exercise may give, by name: an estimator with other noise, another exact form.
ALTERNATIVES: dict[str, tuple[Callable, ...]] = {
    "mc_elbo": (variational.mc_elbo_exact_entropy,),  # the entropy of q in closed form instead of sampled
}


def _as_call(case) -> tuple[tuple, dict]:
    if isinstance(case, dict):
        return (), case
    if isinstance(case, tuple):
        return case, {}
    return (case,), {}


def _clone(value):
    """Deep-copy tensors / arrays so neither function can change the other's inputs."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _snapshot(value) -> list:
    """Every tensor reachable in ``value`` (module weights included) with its requires_grad flag."""
    if isinstance(value, torch.Tensor):
        return [(value.detach().clone(), value.requires_grad)]
    if isinstance(value, nn.Module):
        return [(t.detach().clone(), False) for t in value.state_dict().values()]
    if isinstance(value, np.ndarray):
        return [(torch.from_numpy(value.copy()), False)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _snapshot(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _snapshot(v)]
    return []


def _changed(before: list, after: list) -> bool:
    return any(flag_a != flag_b or not torch.equal(a, b) for (a, flag_a), (b, flag_b) in zip(before, after))


def compare(got: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-4, where: str = "output") -> float:
    """Return the max abs error between ``got`` and ``expected``; raise ``ExerciseError`` on a mismatch.

    Tensors must agree in shape, dtype and device; tuples / lists element by element; numbers
    (complex ones too) within ``atol + rtol * |expected|``.
    """
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise ExerciseError(f"{where}: expected a {type(expected).__name__} of {len(expected)} items, "
                                f"got {_kind(got)}")
        return max((compare(g, e, atol, rtol, f"{where}[{i}]") for i, (g, e) in enumerate(zip(got, expected))),
                   default=0.0)
    if isinstance(expected, torch.Tensor):
        if expected.dim() == 0 and isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
            got = torch.tensor(float(got), dtype=expected.dtype, device=expected.device)  # a number will do
        if not isinstance(got, torch.Tensor):
            raise ExerciseError(f"{where}: expected a torch.Tensor, got {_kind(got)}")
        if got.shape != expected.shape:
            raise ExerciseError(f"{where}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
        if got.dtype != expected.dtype:
            raise ExerciseError(f"{where}: dtype {got.dtype}, expected {expected.dtype}")
        if got.device != expected.device:
            raise ExerciseError(f"{where}: on device {got.device}, expected {expected.device}")
        got_np, exp_np = (t.detach().cpu().numpy().astype(complex if t.is_complex() else float)
                          for t in (got, expected))
    elif isinstance(expected, (int, float, complex, np.ndarray, np.number)):
        if isinstance(got, torch.Tensor) and got.numel() == 1 and np.ndim(expected) == 0:
            got = got.item()
        if not isinstance(got, (int, float, complex, np.ndarray, np.number)):
            raise ExerciseError(f"{where}: expected a number or array, got {_kind(got)}")
        # complex values (eigenvalues) are compared by the modulus of the difference
        kind = complex if np.iscomplexobj(got) or np.iscomplexobj(expected) else float
        got_np, exp_np = np.asarray(got, dtype=kind), np.asarray(expected, dtype=kind)
        if got_np.shape != exp_np.shape:
            raise ExerciseError(f"{where}: shape {got_np.shape}, expected {exp_np.shape}")
    else:
        if got != expected:
            raise ExerciseError(f"{where}: the value differs from the reference")
        return 0.0
    if got_np.size == 0:
        return 0.0
    finite_same = np.array_equal(np.isfinite(got_np), np.isfinite(exp_np))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got_np - exp_np)
    err = np.where(np.isfinite(exp_np) & np.isfinite(got_np), err, np.where(got_np == exp_np, 0.0, np.inf))
    max_err = float(err.max())
    if not finite_same or not np.all(err <= atol + rtol * np.abs(np.nan_to_num(exp_np))):
        nonfinite = "" if finite_same else " (NaN / inf where the reference is finite, or the reverse)"
        raise ExerciseError(f"{where}: values differ, max abs error {max_err:.3g}{nonfinite} "
                            f"(tolerance {atol:g} + {rtol:g}*|expected|)")
    return max_err


def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def _sorted(value):
    """A 1-d result in a canonical order (complex values by real, then imaginary part)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.sort_complex(np.asarray(value)) if np.iscomplexobj(value) else np.sort(np.asarray(value))


def check_exercise(
    name: str,
    learner: Callable,
    cases: Iterable,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    unordered: bool = False,
    reference: Callable | None = None,
) -> Callable:
    """Check ``learner`` against the reference of exercise ``name`` (``REFERENCES``, or ``reference``
    for an exercise not registered) on each case; return the function to use from here on.

    ``cases``: each an argument tuple, a dict of keyword arguments, or a single argument.
    ``unordered``: compare a 1-d result as a set of values (any order).
    """
    if reference is None:
        if name not in REFERENCES:
            raise KeyError(f"no reference registered for exercise {name!r}; pass reference=...")
        reference = REFERENCES[name]
    cases: Sequence = list(cases)
    max_err = 0.0
    for i, case in enumerate(cases):
        args, kwargs = _as_call(case)
        expected = reference(*_clone(args), **_clone(kwargs))
        args_in, kwargs_in = _clone(args), _clone(kwargs)
        before = _snapshot((args_in, kwargs_in))
        OUTCOMES[name] = "wrong"  # until every case has passed
        try:
            got = learner(*args_in, **kwargs_in)
        except NotImplementedError:
            OUTCOMES[name] = "not attempted"
            print(
                f"[not attempted] {name}: not written yet. The notebook goes on with the course's "
                f"reference version; write yours in the cell above and run both cells again."
            )
            return reference
        except Exception as err:
            raise ExerciseError(f"{name} raised {type(err).__name__} on case {i + 1}: {err}") from err
        if _changed(before, _snapshot((args_in, kwargs_in))):
            raise ExerciseError(f"{name}, case {i + 1} of {len(cases)}: changed one of its inputs in place "
                                "(values, requires_grad or a module's weights); work on a copy instead, "
                                "e.g. x.detach().requires_grad_(True) or x.clone()")
        answers = [expected] + [other(*_clone(args), **_clone(kwargs)) for other in ALTERNATIVES.get(name, ())]
        if unordered:
            got, answers = _sorted(got), [_sorted(a) for a in answers]
        errors = []
        for answer in answers:  # the reference, then the other correct forms: any one will do
            try:
                max_err = max(max_err, compare(got, answer, atol, rtol))
                break
            except ExerciseError as err:
                errors.append(err)
        else:
            raise ExerciseError(f"{name}, case {i + 1} of {len(cases)}: {errors[0]}") from None
    OUTCOMES[name] = "passed"
    print(f"[passed] {name}: {len(cases)} cases agree with the reference (max abs error {max_err:.2g}).")
    return learner
