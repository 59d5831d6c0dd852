import re

from training.views.sweep_charts import ZERO_LABEL, line_chart


def series(values, band=False):
    return {
        "lightgbm": [
            {"x": x, "validation_log_loss": y, "gap": y / 10, "band": [y - 0.01, y + 0.01] if band else None}
            for x, y in values
        ]
    }


def circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_points_sit_on_a_log_axis_and_zero_one_decade_left_of_the_smallest_value():
    svg = line_chart(
        series([(0.0, 1.0), (0.01, 1.1), (0.1, 1.2), (1.0, 1.3)]),
        y_key="validation_log_loss",
        title="t",
        x_label="l1_alpha",
        y_label="log loss",
    )
    xs = [x for x, _ in circles(svg)]
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert all(abs(step - steps[0]) < 0.2 for step in steps)  # 0 → 0.01 → 0.1 → 1: one decade each
    assert f">{ZERO_LABEL}</text>" in svg and ">0.01</text>" in svg and "(log scale)" in svg
    assert "<script" not in svg


def test_the_best_point_is_marked_and_a_band_is_shaded():
    svg = line_chart(
        series([(0.001, 1.0), (0.1, 0.9), (10.0, 1.2)], band=True),
        y_key="validation_log_loss",
        band_key="band",
        title="t",
        x_label="p",
        y_label="y",
        best_x=0.1,
    )
    assert svg.count('class="best-point"') == 1 and 'class="best"' in svg and 'class="band"' in svg


def test_no_value_yet_says_so():
    assert "no value yet" in line_chart({"lightgbm": []}, y_key="gap", title="t", x_label="p", y_label="y")
