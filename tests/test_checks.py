import pytest
import torch

from course_utils import checks, data


def _cases():
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(30, 1, 4, 4, generator=g), torch.randint(0, 3, (30,), generator=g), 3)]


def test_accepts_the_reference_and_returns_the_learners_function(capsys):
    def learner(images, labels, k):
        return torch.stack([images[labels == c].mean(0) for c in range(k)])

    assert checks.check_exercise("class_means", learner, _cases(), reference=data.class_means) is learner
    assert capsys.readouterr().out.startswith("[passed] class_means")


@pytest.mark.parametrize("wrong, message", [
    (lambda x, y, k: torch.stack([x[y == c].sum(0) for c in range(k)]), "values differ, max abs error"),
    (lambda x, y, k: torch.stack([x[y == c].mean(0) for c in range(k)]).squeeze(1),
     r"shape \(3, 4, 4\), expected \(3, 1, 4, 4\)"),
    (lambda x, y, k: data.class_means(x, y, k).double(), "dtype torch.float64, expected torch.float32"),
    (lambda x, y, k: data.class_means(x, y, k).numpy(), "expected a torch.Tensor, got ndarray"),
    (lambda x, y, k: data.class_means(x, y, k) * torch.nan, "NaN / inf"),
    (lambda x, y, k: 1 / 0, "raised ZeroDivisionError on case 1"),
])
def test_rejects_a_wrong_answer_and_says_how(wrong, message):
    with pytest.raises(checks.ExerciseError, match=message):
        checks.check_exercise("class_means", wrong, _cases(), reference=data.class_means)


def test_never_prints_the_expected_values():
    expected = data.class_means(*_cases()[0])
    with pytest.raises(checks.ExerciseError) as err:
        checks.check_exercise("class_means", lambda x, y, k: expected + 0.5, _cases(), reference=data.class_means)
    assert f"{expected.flatten()[0].item():.4f}"[:5] not in str(err.value)
    assert "tensor(" not in str(err.value)


def test_not_attempted_falls_back_to_the_reference(capsys):
    def learner(images, labels, k):
        raise NotImplementedError("Exercise: write `class_means` here")

    assert checks.check_exercise("class_means", learner, _cases(), reference=data.class_means) is data.class_means
    assert "[not attempted] class_means" in capsys.readouterr().out


def test_an_answer_that_changes_its_inputs_in_place_is_rejected():
    def mutating(x, y, k):
        out = data.class_means(x, y, k)
        x.zero_()  # the reference still saw the original x: inputs are never shared
        return out

    with pytest.raises(checks.ExerciseError, match="changed one of its inputs in place"):
        checks.check_exercise("class_means", mutating, _cases(), reference=data.class_means)


def test_every_exercise_has_a_registered_reference_and_check_cells_do_not_name_it():
    import re
    from pathlib import Path

    names = set()
    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.py")):
        text = path.read_text()
        for m in re.finditer(r'check_exercise\("(\w+)", \w+,\s+cases[^)]*\)', text):
            names.add(m.group(1))
            assert "reference=" not in m.group(0), f"{path.name}: the check of {m.group(1)} names its reference"
        assert text.count("check_exercise(") == len(re.findall(r'check_exercise\("\w+", \w+,\s+cases', text)), path.name
    assert names == set(checks.REFERENCES)
    with pytest.raises(KeyError, match="no reference registered"):
        checks.check_exercise("unknown", lambda: 0, [()])


def test_r1_term_that_sets_requires_grad_on_the_callers_x_is_rejected():
    from course_utils import gan

    D = torch.nn.Sequential(torch.nn.Linear(2, 1)).double()
    cases = [(D, torch.randn(5, 2, dtype=torch.float64), 1.0)]

    def careless(D, x, gamma):  # right value, but it turns the caller's x into a leaf requiring grad
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        return gamma / 2 * grad.pow(2).sum(1).mean()

    with pytest.raises(checks.ExerciseError, match="in place"):
        checks.check_exercise("r1_term", careless, cases)
    assert checks.check_exercise("r1_term", gan.r1_term, cases) is gan.r1_term


def test_a_python_number_passes_for_a_scalar_tensor_and_unordered_results_in_any_order():
    from course_utils import dynamics, metrics

    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(50, generator=g, dtype=torch.float64), torch.rand(50, generator=g, dtype=torch.float64))]

    def as_float(x, y):  # a correct answer returning a Python float
        return (torch.sort(x).values - torch.sort(y).values).abs().mean().item()

    reference = lambda x, y: torch.tensor(metrics.wasserstein_1d(x, y), dtype=x.dtype)  # noqa: E731
    assert checks.check_exercise("w1_sorted", as_float, cases, atol=1e-9, reference=reference) is as_float
    assert metrics.wasserstein_1d(*cases[0]) > 0
    eig_cases = [(0.5, 0.3, 0.1), (1.0, 3.0, 0.05)]

    def reversed_eigenvalues(a, gamma, h):
        return dynamics.eigenvalues_r1(a, gamma, h)[::-1]

    assert checks.check_exercise("r1_eigenvalues", reversed_eigenvalues, eig_cases, unordered=True)
    with pytest.raises(checks.ExerciseError):  # still wrong when the values are wrong
        checks.check_exercise("r1_eigenvalues", lambda a, gamma, h: dynamics.eigenvalues_r1(a, gamma, h) + 0.1,
                              eig_cases, unordered=True)


def test_koch_loss_with_torch_stack_passes_the_notebooks_cases():
    from course_utils import losses

    g = torch.Generator().manual_seed(0)
    cases = [(torch.rand(10, generator=g) * 0.98 + 0.01, (torch.rand(10, generator=g) > 0.5).float(),
              [torch.randn(3, 3, generator=g), torch.randn(4, generator=g)], 0.01),
             (torch.tensor([0.5, 0.9]), torch.tensor([1.0, 0.0]), [torch.ones(2)], 0.0)]

    def stacked(p, c, weights, lam):
        bce = -(c * torch.log(p) + (1 - c) * torch.log(1 - p)).mean()
        return bce + lam * torch.stack([(w ** 2).sum() for w in weights]).sum()

    assert checks.check_exercise("koch_loss", stacked, cases) is stacked
    assert checks.REFERENCES["koch_loss"] is losses.koch_loss


def test_compare_numbers_tuples_and_tolerance():
    assert checks.compare(1.0, 1.0 + 1e-7) < 1e-6
    assert checks.compare((torch.ones(2), 3.0), (torch.ones(2), 3.0)) == 0.0
    with pytest.raises(checks.ExerciseError, match=r"output\[1\]"):
        checks.compare((torch.ones(2), 3.5), (torch.ones(2), 3.0))
    with pytest.raises(checks.ExerciseError, match="2 items"):
        checks.compare(torch.ones(2), (torch.ones(2), 3.0))
    assert checks.compare(torch.tensor(2.0), 2.0) == 0.0
    assert checks.compare(torch.tensor([float("inf")]), torch.tensor([float("inf")])) == 0.0
    with pytest.raises(checks.ExerciseError):
        checks.compare("a", "b")


def test_cases_as_kwargs_and_single_arguments():
    assert checks.check_exercise("sq", lambda x: x * x, [torch.arange(3.0), 2.0], reference=lambda x: x ** 2)
    assert checks.check_exercise("f", lambda a, b: a - b, [{"a": 1.0, "b": 2.0}], reference=lambda a, b: a - b)


def test_complex_values_are_compared_by_the_modulus_of_the_difference():
    import numpy as np

    expected = np.array([1 - 0.5j, 1 + 0.5j])
    assert checks.compare(expected + 1e-9, expected) < 1e-8
    with pytest.raises(checks.ExerciseError, match="values differ"):
        checks.compare(np.conj(expected), expected)  # same real parts, imaginary parts swapped
    with pytest.raises(checks.ExerciseError, match="values differ"):
        checks.compare(expected.real, expected)  # the imaginary part dropped
    t = torch.tensor([1 + 2j, 3 - 1j])
    assert checks.compare(t.clone(), t) == 0.0
    with pytest.raises(checks.ExerciseError):
        checks.compare(torch.conj(t).resolve_conj(), t)


def _spd(f, g):
    a = torch.randn(f, f, generator=g, dtype=torch.float64)
    return a @ a.T / f + 0.1 * torch.eye(f, dtype=torch.float64)


def test_frechet_terms_checker_accepts_a_torch_answer_and_rejects_a_wrong_one():
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(f, generator=g, dtype=torch.float64), _spd(f, g),
              torch.randn(f, generator=g, dtype=torch.float64), _spd(f, g)) for f in (1, 3, 8)]

    def learner(mu1, sigma1, mu2, sigma2):
        w, v = torch.linalg.eigh(sigma1)
        root = v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T
        trace_root = torch.linalg.eigvalsh(root @ sigma2 @ root).clamp(min=0).sqrt().sum()
        return torch.stack([(mu1 - mu2).pow(2).sum(), sigma1.trace() + sigma2.trace() - 2 * trace_root])

    assert checks.check_exercise("frechet_terms", learner, cases, atol=1e-8) is learner

    def elementwise_root(mu1, sigma1, mu2, sigma2):  # a common slip: the square root taken entry by entry
        cross = (sigma1 * sigma2).clamp(min=0).sqrt().trace()
        return torch.stack([(mu1 - mu2).pow(2).sum(), sigma1.trace() + sigma2.trace() - 2 * cross])

    with pytest.raises(checks.ExerciseError, match="values differ"):
        checks.check_exercise("frechet_terms", elementwise_root, cases, atol=1e-8)
