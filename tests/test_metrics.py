"""tinyml.metrics: each metric against a plain NumPy computation written here (scikit-learn as
a second reference), the edge cases, the errors, and the streaming metrics against the
one-shot values and against reading the device."""

import doctest

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml import metrics
from tinyml.metrics import functional

N, C = 37, 5
RNG = np.random.default_rng(7)
SCORES = RNG.standard_normal((N, C))
LABELS = RNG.integers(0, C, N)
ONE_HOT = np.eye(C)[LABELS]
PREDICTED = SCORES.argmax(axis=1)
SCORE_NAMES = ("precision", "recall", "f1")


# ---------------------------------------------------------------------------- references
def reference_confusion(true, predicted, classes):
    matrix = np.zeros((classes, classes), dtype=np.int64)
    for t, p in zip(true, predicted, strict=True):
        matrix[t, p] += 1
    return matrix


def reference_per_class(score, true, predicted, classes):
    """Per-class scores by counting, 0 where the denominator is 0."""
    values = []
    for c in range(classes):
        tp = np.sum((true == c) & (predicted == c))
        predicted_c, true_c = np.sum(predicted == c), np.sum(true == c)
        numerator, denominator = {"precision": (tp, predicted_c), "recall": (tp, true_c),
                                  "f1": (2 * tp, predicted_c + true_c)}[score]
        values.append(numerator / denominator if denominator else 0.0)
    return np.array(values)


def reference_macro(score, true, predicted, classes):
    """The mean over classes found in the labels or the predictions."""
    occurring = sorted(set(true.tolist()) | set(predicted.tolist()))
    return float(np.mean(reference_per_class(score, true, predicted, classes)[occurring]))


def reference_top_k(scores, true, k):
    hits = [np.sum(row > row[label]) < k for row, label in zip(scores, true, strict=True)]
    return float(np.mean(hits))


def on_device(*arrays):
    return [tinyml.asarray(a) for a in arrays]


def sklearn_metrics():
    return pytest.importorskip("sklearn.metrics")


# ---------------------------------------------------------------------------- accuracy
def test_accuracy_of_labels_scores_and_one_hot_rows(backend):
    scores, labels, one_hot, predicted = on_device(SCORES, LABELS, ONE_HOT, PREDICTED)
    expected = float(np.mean(PREDICTED == LABELS))
    for args in ((predicted, labels), (scores, labels), (scores, one_hot), (predicted, one_hot)):
        value = metrics.accuracy(*args)
        assert type(value) is float
        assert value == pytest.approx(expected, abs=1e-12)


def test_accuracy_counts_exact_matches(backend):
    predicted, labels = on_device(np.array([0, 2, 1, 1]), np.array([0, 1, 1, 3]))
    assert metrics.accuracy(predicted, labels) == 0.5


def test_accuracy_accepts_any_integer_labels(backend):
    predicted, labels = on_device(np.array([0, 2, 1], np.int32), np.array([0, 2, 2], np.uint8))
    assert metrics.accuracy(predicted, labels) == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------- top-k
@pytest.mark.parametrize("k", range(1, C + 1))
def test_top_k_matches_a_reference(backend, k):
    scores, labels, one_hot = on_device(SCORES, LABELS, ONE_HOT)
    expected = reference_top_k(SCORES, LABELS, k)
    assert metrics.top_k_accuracy(scores, labels, k) == pytest.approx(expected, abs=1e-12)
    assert metrics.top_k_accuracy(scores, one_hot, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_agrees_with_sklearn(k):
    sk = sklearn_metrics()
    expected = sk.top_k_accuracy_score(LABELS, SCORES, k=k, labels=list(range(C)))
    assert metrics.top_k_accuracy(SCORES, LABELS, k) == pytest.approx(expected)


def test_top_k_with_k_equal_to_the_classes_is_one(backend):
    scores, labels = on_device(SCORES, LABELS)
    assert metrics.top_k_accuracy(scores, labels, C) == 1.0
    assert metrics.top_k_accuracy(scores, labels, 1) == pytest.approx(
        metrics.accuracy(scores, labels))  # no ties in continuous scores


def test_top_k_ties_count_for_the_label(backend):
    scores, labels = on_device(np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]]), np.array([1, 2]))
    assert metrics.top_k_accuracy(scores, labels, 1) == 1.0
    assert metrics.accuracy(scores, labels) == 0.0  # argmax takes the first of the tied


def test_top_k_with_infinite_scores(backend):
    scores, labels = on_device(np.array([[-np.inf, 0.0, 1.0], [np.inf, 0.0, 5.0]]),
                               np.array([0, 0]))
    assert metrics.top_k_accuracy(scores, labels, 1) == 0.5
    assert metrics.top_k_accuracy(scores, labels, 2) == 0.5
    assert metrics.top_k_accuracy(scores, labels, 3) == 1.0


# ---------------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_matches_a_reference(backend):
    scores, labels, predicted = on_device(SCORES, LABELS, PREDICTED)
    expected = reference_confusion(LABELS, PREDICTED, C)
    for args in ((predicted, labels), (scores, labels), (predicted, labels, C)):
        matrix = metrics.confusion_matrix(*args)
        assert type(matrix) is np.ndarray
        assert matrix.dtype == np.int64
        np.testing.assert_array_equal(matrix, expected)


def test_confusion_matrix_rows_are_true_classes(backend):
    predicted, labels = on_device(np.array([1, 1, 2]), np.array([0, 1, 1]))
    np.testing.assert_array_equal(metrics.confusion_matrix(predicted, labels, 3),
                                  [[0, 1, 0], [0, 1, 1], [0, 0, 0]])


def test_confusion_matrix_agrees_with_sklearn():
    sk = sklearn_metrics()
    np.testing.assert_array_equal(metrics.confusion_matrix(PREDICTED, LABELS, C),
                                  sk.confusion_matrix(LABELS, PREDICTED, labels=list(range(C))))


def test_num_classes_is_the_largest_index_plus_one_or_a_row_width(backend):
    predicted, labels = on_device(np.array([0, 3]), np.array([1, 1]))
    assert metrics.confusion_matrix(predicted, labels).shape == (4, 4)
    assert metrics.confusion_matrix(predicted, labels, num_classes=6).shape == (6, 6)
    scores = tinyml.asarray(np.zeros((2, 7)))
    assert metrics.confusion_matrix(scores, labels).shape == (7, 7)


def test_the_confusion_counts_are_exact_across_blocks(backend, monkeypatch):
    # Blocks of 4 rows instead of 2**24: the block loop runs and the sums must still add up.
    monkeypatch.setattr("tinyml.metrics._counts.EXACT_FLOAT32_ROWS", 4)
    predicted, labels = on_device(PREDICTED, LABELS)
    np.testing.assert_array_equal(metrics.confusion_matrix(predicted, labels, C),
                                  reference_confusion(LABELS, PREDICTED, C))


# ---------------------------------------------------------------------------- precision ...
@pytest.mark.parametrize("score", SCORE_NAMES)
def test_scores_match_a_reference(backend, score):
    function = getattr(metrics, score)
    scores, labels, predicted = on_device(SCORES, LABELS, PREDICTED)
    per_class = function(predicted, labels, average=None)
    assert type(per_class) is np.ndarray
    assert per_class.dtype == np.float64 and per_class.shape == (C,)
    np.testing.assert_allclose(per_class, reference_per_class(score, LABELS, PREDICTED, C),
                               rtol=1e-12)
    macro = function(scores, labels)
    assert type(macro) is float
    assert macro == pytest.approx(reference_macro(score, LABELS, PREDICTED, C), abs=1e-12)
    micro = function(predicted, labels, average="micro")
    assert type(micro) is float
    assert micro == pytest.approx(float(np.mean(PREDICTED == LABELS)), abs=1e-12)


@pytest.mark.parametrize("score", SCORE_NAMES)
@pytest.mark.parametrize("average", ["macro", "micro", None])
def test_scores_agree_with_sklearn(score, average):
    sk = sklearn_metrics()
    reference = {"precision": sk.precision_score, "recall": sk.recall_score,
                 "f1": sk.f1_score}[score]
    # Class 4 in neither: scikit-learn's default labels leave it out of the means, as tinyml.
    kept = (LABELS != 4) & (PREDICTED != 4)
    true, predicted = LABELS[kept], PREDICTED[kept]
    np.testing.assert_allclose(
        getattr(metrics, score)(predicted, true, num_classes=C, average=average),
        reference(true, predicted, average=average, zero_division=0,
                  labels=list(range(C)) if average is None else None))


def test_absent_classes_score_zero_and_leave_the_macro_mean(backend):
    # Class 2 is predicted but never true, class 3 true but never predicted, class 4 neither.
    predicted, labels = on_device(np.array([0, 0, 1, 2, 1]), np.array([0, 1, 1, 3, 3]))
    precision = metrics.precision(predicted, labels, num_classes=5, average=None)
    recall = metrics.recall(predicted, labels, num_classes=5, average=None)
    f1 = metrics.f1(predicted, labels, num_classes=5, average=None)
    np.testing.assert_allclose(precision, [0.5, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(recall, [1.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(f1, [2 / 3, 0.5, 0.0, 0.0, 0.0])
    assert metrics.precision(predicted, labels, num_classes=5) == pytest.approx(0.25)
    assert metrics.recall(predicted, labels, num_classes=5) == pytest.approx(0.375)
    assert metrics.f1(predicted, labels, num_classes=5) == pytest.approx((2 / 3 + 0.5) / 4)


def test_a_perfect_prediction_scores_one(backend):
    labels, = on_device(LABELS)
    for score in SCORE_NAMES:
        assert getattr(metrics, score)(labels, labels) == 1.0


# ---------------------------------------------------------------------------- errors
def bad_call(function):
    """Calls of `function` with the labels in the second place, as the tests below need."""
    return {
        "accuracy": lambda p, y: metrics.accuracy(p, y),
        "top_k": lambda p, y: metrics.top_k_accuracy(p, y, 1),
        "confusion_matrix": lambda p, y: metrics.confusion_matrix(p, y),
        "f1": lambda p, y: metrics.f1(p, y),
    }[function]


FUNCTIONS = ("accuracy", "top_k", "confusion_matrix", "f1")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_lengths_must_agree(backend, function):
    scores, labels = on_device(SCORES, LABELS[:-1])
    with pytest.raises(ValueError, match=rf"has {N} rows but labels has {N - 1}"):
        bad_call(function)(scores, labels)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_there_must_be_samples(backend, function):
    scores, labels = on_device(np.zeros((0, C)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="no samples; give at least one"):
        bad_call(function)(scores, labels)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_boolean_labels_are_refused(backend, function):
    scores, labels = on_device(SCORES, LABELS == 1)
    with pytest.raises(TypeError, match=r"labels are booleans; class indices must be integers"):
        bad_call(function)(scores, labels)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_floating_class_indices_are_refused(backend, function):
    scores, labels = on_device(SCORES, LABELS.astype(np.float64))
    with pytest.raises(TypeError, match=r"labels of shape \(N,\) must be integer class "
                                        r"indices; got dtype .*float64.*xp.astype"):
        bad_call(function)(scores, labels)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_labels_must_be_one_or_two_dimensional(backend, function):
    scores, labels = on_device(SCORES, LABELS.reshape(N, 1, 1))
    with pytest.raises(ValueError, match=r"labels must be \(N,\) integer class indices or "
                                         r"\(N, C\) rows .*got shape \(37, 1, 1\)"):
        bad_call(function)(scores, labels)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_row_widths_must_agree(backend, function):
    scores, one_hot = on_device(SCORES, np.eye(C + 1)[LABELS])
    with pytest.raises(ValueError, match=rf"labels has {C + 1} columns but \w+ says {C} "
                                         "classes; they must agree"):
        bad_call(function)(scores, one_hot)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_mixed_backends_are_refused(backend, function):
    if backend.name == "numpy":
        pytest.skip("needs a second library")
    scores = tinyml.asarray(SCORES)
    with pytest.raises(TypeError, match=r"labels lives on numpy .* but \w+ lives on"):
        bad_call(function)(scores, LABELS)


def test_labels_outside_the_classes_are_refused(backend):
    predicted, labels = on_device(np.array([0, 1, 2]), np.array([0, 5, -1]))
    with pytest.raises(ValueError, match=r"confusion_matrix: 2 of 3 labels are outside \[0, 3\) "
                                         r"\(num_classes is 3; smallest -1, largest 5\)"):
        metrics.confusion_matrix(predicted, labels, num_classes=3)
    with pytest.raises(ValueError, match=r"f1: 1 of 3 labels are outside \[0, 6\) .*smallest "
                                         r"-1.*check the labels\.$"):
        metrics.f1(predicted, labels)


def test_predictions_outside_the_classes_are_refused(backend):
    predicted, labels = on_device(np.array([0, 1, 4]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"precision: 1 of 3 predicted_labels are outside "
                                         r"\[0, 3\).*or pass num_classes > 4"):
        metrics.precision(predicted, labels, num_classes=3)


def test_top_k_refuses_labels_outside_the_columns(backend):
    scores, labels = on_device(SCORES[:3], np.array([0, C, 1]))
    with pytest.raises(ValueError, match=rf"top_k_accuracy: 1 of 3 labels are outside "
                                         rf"\[0, {C}\) \(the scores have {C} columns"):
        metrics.top_k_accuracy(scores, labels, 2)


@pytest.mark.parametrize(("k", "error", "message"), [
    (0, ValueError, rf"k must be in \[1, {C}\] \(the number of classes\); got 0"),
    (C + 1, ValueError, rf"k must be in \[1, {C}\] .*got {C + 1}"),
    (True, TypeError, "k must be an int; got True"),
    (2.0, TypeError, "k must be an int; got 2.0"),
])
def test_top_k_checks_k(backend, k, error, message):
    scores, labels = on_device(SCORES, LABELS)
    with pytest.raises(error, match=f"top_k_accuracy: {message}"):
        metrics.top_k_accuracy(scores, labels, k)


def test_top_k_needs_score_rows(backend):
    predicted, labels = on_device(PREDICTED, LABELS)
    with pytest.raises(ValueError, match=r"scores must be \(N, C\) score rows .*got shape "
                                         r"\(37,\)"):
        metrics.top_k_accuracy(predicted, labels, 1)


@pytest.mark.parametrize(("num_classes", "error", "message"), [
    (0, ValueError, "num_classes must be >= 1; got 0"),
    (2.5, TypeError, "num_classes must be an int; got 2.5"),
    (True, TypeError, "num_classes must be an int; got True"),
])
def test_num_classes_is_checked(backend, num_classes, error, message):
    predicted, labels = on_device(PREDICTED, LABELS)
    with pytest.raises(error, match=f"recall: {message}"):
        metrics.recall(predicted, labels, num_classes=num_classes)


def test_unknown_averages_are_named(backend):
    predicted, labels = on_device(PREDICTED, LABELS)
    with pytest.raises(ValueError, match=r"f1: average must be one of \['macro', 'micro', None\]"
                                         r"; got 'weighted'"):
        metrics.f1(predicted, labels, average="weighted")


# ---------------------------------------------------------------------------- reads
def test_one_shot_metrics_read_the_device_once(monkeypatch):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        scores, labels, predicted = on_device(SCORES, LABELS, PREDICTED)
        for call in (lambda: metrics.accuracy(scores, labels),
                     lambda: metrics.top_k_accuracy(scores, labels, 2),
                     lambda: metrics.confusion_matrix(predicted, labels, C),
                     lambda: metrics.f1(scores, labels)):
            reads.clear()
            call()
            assert len(reads) == 1, reads
        reads.clear()
        metrics.f1(predicted, labels)  # learning num_classes costs a second read
        assert len(reads) == 2, reads


# ---------------------------------------------------------------------------- correct_count
def test_correct_count_stays_on_the_device(backend):
    scores, labels, one_hot = on_device(SCORES, LABELS, ONE_HOT)
    xp = backend.xp
    for target in (labels, one_hot):
        total = metrics.correct_count(scores, target)
        assert total.ndim == 0 and total.dtype == scores.dtype
        assert tinyml.backend.device_of(total) == tinyml.backend.device_of(scores)
        assert float(total) == np.sum(PREDICTED == LABELS)
    assert xp is tinyml.backend.array_namespace(total)


def test_the_training_totals_use_the_same_correct_count():
    from tinyml.train import totals

    assert totals.correct_count is metrics.correct_count


# ---------------------------------------------------------------------------- streaming
STREAMING = ("accuracy", "top_1", "top_3", "precision", "recall", "f1")


def one_shot(name, scores, labels):
    if name.startswith("top_"):
        return metrics.top_k_accuracy(scores, labels, int(name[4:]))
    return getattr(metrics, name)(scores, labels)


@pytest.mark.parametrize("name", STREAMING)
def test_streaming_over_batches_equals_the_one_shot_value(backend, name):
    scores, labels, one_hot = on_device(SCORES, LABELS, ONE_HOT)
    metric = metrics.make_metric(name)
    assert metric.name == name
    for start, stop in ((0, 10), (10, 10), (10, 11), (11, N)):  # an empty batch among them
        metric.update(scores[start:stop, :], one_hot[start:stop, :] if start else
                      labels[start:stop])
    value = metric.result()
    assert type(value) is float
    assert value == pytest.approx(one_shot(name, scores, labels), abs=1e-12)


@pytest.mark.parametrize("name", STREAMING)
def test_reset_forgets_the_batches(backend, name):
    scores, labels = on_device(SCORES, LABELS)
    metric = metrics.make_metric(name, num_classes=C)
    metric.update(scores[:5, :], (labels[:5] + 1) % C)
    metric.reset()
    metric.update(scores[5:, :], labels[5:])
    assert metric.result() == pytest.approx(one_shot(name, scores[5:, :], labels[5:]))


def test_streaming_f1_macro_leaves_out_classes_that_never_occur(backend):
    scores, labels = on_device(np.eye(5)[[0, 0, 1, 2, 1]], np.array([0, 1, 1, 3, 3]))
    metric = metrics.make_metric("f1")
    metric.update(scores, labels)
    assert metric.result() == pytest.approx((2 / 3 + 0.5) / 4)


@pytest.mark.parametrize("name", STREAMING)
def test_streaming_update_never_reads_the_device(monkeypatch, name):
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        scores, labels, one_hot = on_device(SCORES, LABELS, ONE_HOT)
        metric = metrics.make_metric(name)
        reads.clear()
        for _ in range(3):
            metric.update(scores, labels)
            metric.update(scores, one_hot)
        assert reads == []
        metric.result()
        assert len(reads) == 1, reads


def test_known_names_and_the_top_k_spelling():
    assert metrics.METRIC_NAMES == ("accuracy", "top_<k>", "precision", "recall", "f1")
    assert metrics.make_metric("top_5").k == 5
    assert isinstance(metrics.make_metric("accuracy"), metrics.Accuracy)
    assert isinstance(metrics.make_metric("recall"), metrics.ConfusionScore)


@pytest.mark.parametrize("name", ["accurasy", "top_k", "top_", "top_-1", "F1", "top_2.5"])
def test_unknown_names_list_the_known_ones(name):
    with pytest.raises(ValueError, match=rf"make_metric: unknown metric '{name}'; known: "
                                         r"accuracy, top_<k>, precision, recall, f1"):
        metrics.make_metric(name)


def test_a_name_must_be_a_string():
    with pytest.raises(TypeError, match="the metric name must be a string; got <function"):
        metrics.make_metric(metrics.accuracy)


def test_top_zero_is_refused():
    with pytest.raises(ValueError, match="metric 'top_0': k must be a whole number >= 1; got 0"):
        metrics.make_metric("top_0")


def test_top_k_beyond_the_classes_is_refused(backend):
    with pytest.raises(ValueError, match=r"metric 'top_6': k must be in \[1, 5\]"):
        metrics.make_metric("top_6", num_classes=5)
    metric = metrics.make_metric("top_6")
    scores, labels = on_device(SCORES, LABELS)
    with pytest.raises(ValueError, match=rf"metric 'top_6': k must be in \[1, {C}\]"):
        metric.update(scores, labels)


def test_result_before_any_sample_is_an_error(backend):
    metric = metrics.make_metric("accuracy")
    with pytest.raises(RuntimeError, match=r"metric 'accuracy': result\(\) needs at least one "
                                           r"sample; call update\(outputs, labels\) first"):
        metric.result()


def test_batches_must_keep_the_class_count(backend):
    metric = metrics.make_metric("f1")
    metric.update(*on_device(SCORES, LABELS))
    wider = tinyml.asarray(np.zeros((2, C + 1)))
    with pytest.raises(ValueError, match=rf"metric 'f1': outputs has {C + 1} columns but "
                                         rf"num_classes says {C} classes"):
        metric.update(wider, tinyml.asarray(np.array([0, 1])))
    given = metrics.make_metric("accuracy", num_classes=3)
    with pytest.raises(ValueError, match=rf"outputs has {C} columns but num_classes says 3"):
        given.update(*on_device(SCORES, LABELS))


@pytest.mark.parametrize("name", STREAMING)
def test_streaming_refuses_labels_outside_the_classes_in_result(backend, name):
    metric = metrics.make_metric(name)
    metric.update(*on_device(SCORES[:3], np.array([0, C, -1])))
    with pytest.raises(ValueError, match=rf"metric '{name}': 2 of 3 labels are outside "
                                         rf"\[0, {C}\) \(the outputs have {C} columns\)"):
        metric.result()


def test_streaming_checks_its_inputs(backend):
    metric = metrics.make_metric("accuracy")
    scores, labels = on_device(SCORES, LABELS)
    with pytest.raises(ValueError, match=r"metric 'accuracy': outputs must be \(N, C\) score "
                                         r"rows .*got shape \(37,\)"):
        metric.update(labels, labels)
    with pytest.raises(ValueError, match=rf"outputs has {N} rows but labels has 3"):
        metric.update(scores, labels[:3])
    with pytest.raises(TypeError, match="labels are booleans"):
        metric.update(scores, labels == 0)
    with pytest.raises(TypeError, match="metric 'f1': num_classes must be an int"):
        metrics.make_metric("f1", num_classes="5")


# ---------------------------------------------------------------------------- docs
def test_the_module_example_runs():
    failures, tried = doctest.testmod(functional, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
