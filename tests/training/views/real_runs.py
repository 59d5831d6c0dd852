"""Runs trained for real (inline, `tiny` preset) for the page tests and the browser tests."""


def make_real_run(profile, dataset, *, user=None, preset: str = "tiny"):
    """A run trained for real, inline, by the service the worker calls (the `tiny` preset: a second or two)."""
    from training.services.runs import training_run_create, training_run_execute

    run = training_run_create(
        profile=profile,
        symbol=dataset.symbol,
        exchange=dataset.exchange,
        interval=dataset.interval,
        preset=preset,
        user=user,
        enqueue=False,
    )
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run
