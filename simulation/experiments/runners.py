"""Where runs execute: this process, local worker processes, or a Dask cluster.

A run is a pure function of its task (scenario, seed, replication), so the results are the same
whichever runner executes it; runners only differ in speed. Every runner returns results in
the order of the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Runner(Protocol):
    """Maps a function over tasks, yielding results in task order."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Apply ``fn`` to every task; yield the results in the order of ``tasks``."""
        ...

    def close(self) -> None:
        """Release workers or connections."""
        ...


class LocalRunner:
    """This process (``workers`` = 1) or a pool of local worker processes."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers(={workers}) must be >= 1.")
        self.workers = workers

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Apply ``fn`` to every task, in order (several at once with ``workers`` > 1)."""
        if self.workers == 1 or len(tasks) <= 1:
            yield from map(fn, tasks)
            return
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            yield from pool.map(fn, tasks)

    def close(self) -> None:
        """Nothing to release: each map owns its pool."""

    def describe(self) -> str:
        """A short description for manifests."""
        return f"local, {self.workers} worker process(es)"


class DaskRunner:
    """A Dask cluster: ``"local"`` starts a ``LocalCluster`` of ``workers`` processes on this
    machine; ``"tcp://host:8786"`` connects to a running scheduler (see README)."""

    def __init__(self, address: str = "local", workers: int = 2) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # an optional dependency
            raise RuntimeError(
                "--dask needs dask[distributed]: pip install 'repatsim[dask]'"
            ) from exc
        self.address = address
        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client: Any = Client(self._cluster)
        else:
            self._client = Client(address, timeout=30)

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task to the cluster; yield the results in task order."""
        futures = self._client.map(fn, list(tasks), pure=False)
        for future in futures:
            yield future.result()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this runner started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        """A short description for manifests."""
        return f"dask {self.address}"


class _Session:
    """``with runner_for(...) as runner:`` closes the runner at the end."""

    def __init__(self, runner: LocalRunner | DaskRunner) -> None:
        self.runner = runner

    def __enter__(self) -> LocalRunner | DaskRunner:
        return self.runner

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.runner.close()


def runner_for(workers: int = 1, dask: str | None = None) -> _Session:
    """The runner the command-line options ask for: Dask if ``dask`` is given, else local."""
    if dask is not None:
        return _Session(DaskRunner(dask, workers=max(workers, 2) if dask == "local" else 0))
    return _Session(LocalRunner(workers))
