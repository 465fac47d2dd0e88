import pytest
import torch

from course_utils import checks, data


def _cases():
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(30, 1, 4, 4, generator=g), torch.randint(0, 3, (30,), generator=g), 3)]


def test_accepts_the_reference_and_returns_the_learners_function(capsys):
    def learner(images, labels, k):
        return torch.stack([images[labels == c].mean(0) for c in range(k)])

    assert checks.check_exercise("class_means", learner, data.class_means, _cases()) is learner
    assert capsys.readouterr().out.startswith("[passed] class_means")


@pytest.mark.parametrize("wrong, message", [
    (lambda x, y, k: torch.stack([x[y == c].sum(0) for c in range(k)]), "values differ, max abs error"),
    (lambda x, y, k: torch.stack([x[y == c].mean(0) for c in range(k)]).squeeze(1), r"shape \(3, 4, 4\), expected \(3, 1, 4, 4\)"),
    (lambda x, y, k: data.class_means(x, y, k).double(), "dtype torch.float64, expected torch.float32"),
    (lambda x, y, k: data.class_means(x, y, k).numpy(), "expected a torch.Tensor, got ndarray"),
    (lambda x, y, k: data.class_means(x, y, k) * torch.nan, "NaN / inf"),
    (lambda x, y, k: 1 / 0, "raised ZeroDivisionError on case 1"),
])
def test_rejects_a_wrong_answer_and_says_how(wrong, message):
    with pytest.raises(checks.ExerciseError, match=message):
        checks.check_exercise("class_means", wrong, data.class_means, _cases())


def test_never_prints_the_expected_values():
    expected = data.class_means(*_cases()[0])
    with pytest.raises(checks.ExerciseError) as err:
        checks.check_exercise("class_means", lambda x, y, k: expected + 0.5, data.class_means, _cases())
    assert f"{expected.flatten()[0].item():.4f}"[:5] not in str(err.value)
    assert "tensor(" not in str(err.value)


def test_not_attempted_falls_back_to_the_reference(capsys):
    def learner(images, labels, k):
        raise NotImplementedError("Exercise: write `class_means` here")

    assert checks.check_exercise("class_means", learner, data.class_means, _cases()) is data.class_means
    assert "[not attempted] class_means" in capsys.readouterr().out


def test_inputs_are_not_shared_between_learner_and_reference():
    def mutating(x, y, k):
        out = data.class_means(x, y, k)
        x.zero_()
        return out

    checks.check_exercise("class_means", mutating, data.class_means, _cases())


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
    assert checks.check_exercise("sq", lambda x: x * x, lambda x: x ** 2, [torch.arange(3.0), 2.0]) is not None
    assert checks.check_exercise("f", lambda a, b: a - b, lambda a, b: a - b, [{"a": 1.0, "b": 2.0}])


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
