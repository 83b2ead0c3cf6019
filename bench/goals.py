"""The goals of issue 19, checked against one run's report (bench/run.py)."""


def _row(rows, **where):
    for row in rows:
        if all(row.get(key) == value for key, value in where.items()):
            return row
    return None


def _goal(name, value, limit, *, strict=False):
    """A goal `value` <= `limit` (< with `strict`); value None: not measured."""
    if value is None:
        met = None
    else:
        met = value < limit if strict else value <= limit
    return dict(goal=name, value=value, limit=limit, comparison="<" if strict else "<=",
                met=met)


def check_goals(report):
    steps, goals = report["steps"], []
    for batch, limit, strict in ((1, 1.0, True), (8, 1.0, True), (64, 1.0, False),
                                 (256, 1.5, False)):
        row = _row(steps, model="lenet", batch=batch) or {}
        goals.append(_goal(f"LeNet step, NumPy / PyTorch, batch {batch}",
                           row.get("numpy_vs_pytorch"), limit, strict=strict))
    epoch = report.get("epoch") or {}
    goals.append(_goal("Fashion-MNIST LeNet epoch, NumPy / PyTorch",
                       epoch.get("numpy_vs_pytorch"), 1.0))
    row = _row(steps, model="mlp", batch=128) or {}
    goals.append(_goal("MLP step, NumPy / PyTorch, batch 128", row.get("numpy_vs_pytorch"), 1.0))
    for layer in report["layers"]:
        if layer["numpy_vs_pytorch"] is not None:
            goals.append(_goal(f"layer {layer['layer']}, NumPy / PyTorch",
                               layer["numpy_vs_pytorch"], 1.5))
    for row in steps:
        goals.append(_goal(f"{row['model']} step batch {row['batch']}, torch backend / PyTorch",
                           row["backend_vs_pytorch"], 1.15))
    for row in steps:
        if row["model"] == "lenet":
            goals.append(_goal(f"LeNet step batch {row['batch']}, portable / native",
                               row["portable_vs_numpy"], 2.0))
    for row in report["operations"]:
        goals.append(_goal(f"{row['model']} host syncs per step (torch backend)", row["syncs"],
                           0))
        if row["model"] == "lenet":
            goals.append(_goal("LeNet operations per step, tinyml / PyTorch",
                               row["native"] / row["pytorch"], 2.0))
    memory = report.get("memory") or {}
    ours, theirs = (memory.get(p, {}).get("peak_mb") for p in ("numpy", "pytorch"))
    goals.append(_goal("LeNet step peak memory at batch 256, NumPy / PyTorch",
                       ours / theirs if ours is not None and theirs else None, 2.0))
    return goals


def print_goals(goals):
    print("\nGoals (issue 19)")
    for goal in goals:
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[goal["met"]]
        value = "-" if goal["value"] is None else f"{goal['value']:.3g}"
        print(f"  {mark} {goal['goal']:<58} {value:>6} {goal['comparison']} {goal['limit']}")
    missed = sum(goal["met"] is False for goal in goals)
    print(f"  {missed} of {len(goals)} missed" if missed else "  all measured goals met")
