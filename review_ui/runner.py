"""Starting a batch submitted through the web: queued for the workers (Redis), or run by one background thread here."""

from __future__ import annotations

import logging
import queue
import threading

from yomitori.jobs.runtime import InlineDispatcher, Runtime, use_runtime

log = logging.getLogger(__name__)


class BatchRunner:
    """With Redis the workers do the work and this only queues it; embedded, one thread runs batches in turn."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        use_runtime(rt)  # the stages find the store through the process's runtime
        self._todo: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    @property
    def embedded(self) -> bool:
        return isinstance(self.rt.dispatcher, InlineDispatcher)

    def start(self, tenant: str, batch_id: int) -> None:
        from yomitori.jobs.stages import reconcile

        if not self.embedded:
            reconcile(self.rt, tenant, batch_id)
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="yomitori-batches", daemon=True)
            self._thread.start()
        self._todo.put((tenant, batch_id))

    def _run(self) -> None:
        from yomitori.jobs.stages import reconcile
        from yomitori.jobs.submit import run_inline

        while (item := self._todo.get()) is not None:
            tenant, batch_id = item
            try:
                reconcile(self.rt, tenant, batch_id)
                run_inline(self.rt, tenant, batch_id)
            except Exception:  # the batch stays running; `yomitori batch resume` or a restart finishes it
                log.exception("batch %d of tenant %s stopped", batch_id, tenant)
            finally:
                self._todo.task_done()

    def wait(self) -> None:
        """Until every submitted batch has run (tests, shutdown)."""
        self._todo.join()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._todo.put(None)
