"""Torchnet's ParallelDatasetIterator, on worker processes: samples are read in parallel by
`nthread` processes, each holding its own copy of the dataset built by ``closure(worker)``.

Processes, not threads: reading and decoding samples in Python holds the GIL, so threads would
take turns. The workers start from a fork server (``multiprocessing``'s ``forkserver``) that has
imported nets but never started JAX, so no JAX thread is forked; `init` and `closure` must
therefore be picklable, i.e. module-level functions (or ``functools.partial`` of them), as
Torchnet asks its closures to be serializable. Samples travel back through a
``multiprocessing`` queue.

Ctrl-C: the workers ignore SIGINT, so only the main process sees the KeyboardInterrupt. Used
as a context manager (``with ParallelDatasetIterator(...) as it:``), leaving the block that way
stops the workers (a ``None`` each on the task queue, terminate after a grace period) and joins
them; so does an interrupt inside ``next()``. A script that does neither still leaves nothing
behind: the workers are daemons, stopped when the interpreter exits, and each quits by itself
when it finds the main process gone.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import traceback
from collections.abc import Callable, Iterator
from typing import Any

_GRACE_S = 2.0  # how long stopping workers may take before they are terminated


def _identity(x: Any) -> Any:
    return x


def _keep(sample: Any) -> bool:
    return True


def _worker(worker: int, init: Callable | None, closure: Callable, tasks: Any, results: Any):
    """A worker process: build the dataset, then serve ``(epoch, position, index)`` tasks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        if init is not None:
            init(worker)
        dataset = closure(worker)
        results.put(("size", worker, -1, len(dataset)))
    except BaseException:
        results.put(("error", worker, -1, traceback.format_exc()))
        return
    parent = mp.parent_process()
    while True:
        try:
            task = tasks.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return  # the main process is gone: no orphan keeps reading
            continue
        if task is None:
            return
        epoch, position, index = task
        try:
            results.put(("sample", epoch, position, dataset[index]))
        except BaseException:
            results.put(("error", epoch, position, traceback.format_exc()))


class ParallelDatasetIterator:
    """ParallelDatasetIterator(closure, nthread[, init][, perm][, filter][, transform][, ordered])

    Args:
        closure: ``closure(worker) -> dataset``, called in each worker (0-based worker ids).
        nthread: the number of worker processes.
        init: ``init(worker)``, called in each worker first (nothing).
        perm: ``perm(idx) -> idx``, 0-based, the order in which samples are read (identity).
        filter: ``filter(sample) -> bool``, the samples to yield (all); run in this process.
        transform: ``transform(sample) -> sample``, applied before `filter`, in this process.
        ordered: yield the samples in index order (False: as they arrive).
        start_method: the ``multiprocessing`` start method ('forkserver').

    Each ``iter()`` (Torchnet's ``run()``) is a pass over the dataset. The workers live until
    ``close()`` (or the end of a ``with`` block, or garbage collection).
    """

    def __init__(
        self,
        closure: Callable[[int], Any],
        nthread: int,
        init: Callable[[int], Any] | None = None,
        perm: Callable[[int], int] = _identity,
        filter: Callable[[Any], bool] = _keep,  # noqa: A002 (Torchnet's name)
        transform: Callable[[Any], Any] = _identity,
        ordered: bool = False,
        start_method: str = "forkserver",
    ):
        if isinstance(nthread, bool) or not isinstance(nthread, int) or nthread < 1:
            raise ValueError(
                f"ParallelDatasetIterator: nthread should be an integer >= 1, got {nthread!r}"
            )
        self.nthread = nthread
        self.perm, self.filter, self.transform = perm, filter, transform
        self.ordered = bool(ordered)
        self._epoch = 0
        ctx = mp.get_context(start_method)
        if start_method == "forkserver":
            ctx.set_forkserver_preload([__name__])
        self._tasks = ctx.Queue()
        self._results = ctx.Queue()
        self._workers = [
            ctx.Process(
                target=_worker,
                args=(w, init, closure, self._tasks, self._results),
                name=f"nets-data-worker-{w}",
                daemon=True,
            )
            for w in range(nthread)
        ]
        try:
            for p in self._workers:
                p.start()
            sizes = {}
            while len(sizes) < nthread:
                kind, worker, _, value = self._next_result()
                if kind == "error":
                    raise RuntimeError(
                        f"ParallelDatasetIterator: worker {worker} failed to build its dataset "
                        f"(init or closure):\n{value}"
                    )
                sizes[worker] = value
        except BaseException:
            self.close()
            raise
        if len(set(sizes.values())) != 1:
            self.close()
            raise ValueError(
                f"ParallelDatasetIterator: the workers' datasets differ in size: {sizes}"
            )
        self.size = sizes[0]

    def __len__(self) -> int:
        return self.size

    def _next_result(self) -> tuple:
        """The next message from a worker; a worker that died is an error, not a hang."""
        while True:
            try:
                return self._results.get(timeout=0.2)
            except queue.Empty:
                for p in self._workers:
                    if p.exitcode is not None:
                        raise RuntimeError(
                            f"ParallelDatasetIterator: worker process {p.name} (pid {p.pid}) "
                            f"exited with code {p.exitcode}"
                        ) from None

    def __iter__(self) -> Iterator[Any]:
        if not self._workers:
            raise RuntimeError("ParallelDatasetIterator: closed")
        self._epoch += 1
        return self._run(self._epoch)

    def _run(self, epoch: int) -> Iterator[Any]:
        n = self.size
        sent = done = 0
        waiting: dict[int, Any] = {}  # ordered mode: samples that came early
        skipped = object()
        next_position = 0
        try:
            while done < n:
                while sent < n and sent - done < 2 * self.nthread:
                    self._tasks.put((epoch, sent, int(self.perm(sent))))
                    sent += 1
                kind, tag, position, value = self._next_result()
                if tag != epoch or kind == "size":
                    continue  # a result of an abandoned pass
                if kind == "error":
                    raise RuntimeError(
                        f"ParallelDatasetIterator: reading sample {position} failed in a "
                        f"worker:\n{value}"
                    )
                done += 1
                sample = self.transform(value)
                keep = self.filter(sample)
                if not self.ordered:
                    if keep:
                        yield sample
                    continue
                waiting[position] = sample if keep else skipped
                while next_position in waiting:
                    item = waiting.pop(next_position)
                    next_position += 1
                    if item is not skipped:
                        yield item
        except KeyboardInterrupt:
            self.close()
            raise

    def close(self) -> None:
        """Stop the workers (a ``None`` each, terminate after a grace period) and join them."""
        workers, self._workers = self._workers, []
        try:  # drop the tasks not yet taken, so that the workers see their None at once
            while True:
                self._tasks.get_nowait()
        except (queue.Empty, ValueError, OSError):
            pass
        for _ in workers:
            try:
                self._tasks.put_nowait(None)
            except (ValueError, OSError):
                break
        for p in workers:
            if p.pid is not None:
                p.join(_GRACE_S)
        for p in workers:
            if p.is_alive():
                p.terminate()
                p.join(_GRACE_S)
        for q in (self._tasks, self._results):
            q.cancel_join_thread()
            q.close()

    def __enter__(self) -> ParallelDatasetIterator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_workers", None):
            try:
                self.close()
            except Exception:  # at interpreter exit, multiprocessing may be half torn down
                pass
