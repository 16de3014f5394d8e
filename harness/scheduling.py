"""List scheduling of a job graph on G identical GPUs: when each job starts and when the last
one ends (the makespan). Pure functions of the tasks; nothing here knows the workflow.

The scheduler is critical-path-first list scheduling (Graham's list scheduling with the
"highest level first" priority of Hu / Adam, Chandy and Dickson): whenever GPUs are free, the
ready task with the longest chain of work still behind it (its bottom level: its own hours plus
the longest path of hours through the tasks that wait for it) starts first; ties go to the
longer task, then the name. A task that needs more GPUs than are free lets a smaller ready one
start in the meantime. Tasks asking for 0 GPUs run beside the GPUs, never waiting for them.

List scheduling can finish later with more machines (Graham 1969, "Bounds on multiprocessing
timing anomalies"), which a user avoids by not using the extra GPUs; so `best_schedules` gives,
for each G, the best list schedule that uses at most G GPUs, and says how many it used.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Schedule", "Task", "best_schedules", "bottom_levels", "critical_path",
           "list_schedule"]


@dataclass(frozen=True)
class Task:
    """A job: `hours` of wall-clock time holding `gpus` GPUs, after every task in `needs`."""

    name: str
    hours: float
    gpus: int = 1
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    gpus: int  # the GPUs it may use
    start: dict[str, float]  # hours from the beginning, per task
    makespan: float
    waited: bool  # some ready task waited for GPUs (more GPUs might end it earlier)


def _topological(tasks: Sequence[Task]) -> list[Task]:
    """`tasks` with every task after those it needs; ValueError on an unknown need, a
    duplicate name, a negative duration or a cycle."""
    by_name: dict[str, Task] = {}
    for task in tasks:
        if task.name in by_name:
            raise ValueError(f"task '{task.name}' appears twice")
        if not task.hours >= 0 or task.gpus < 0:
            raise ValueError(f"task '{task.name}': hours {task.hours} and gpus {task.gpus} "
                             "must be >= 0")
        by_name[task.name] = task
    pending = {t.name: len(set(t.needs)) for t in tasks}
    waiting: dict[str, list[str]] = {name: [] for name in by_name}
    for task in tasks:
        for need in set(task.needs):
            if need not in by_name:
                raise ValueError(f"task '{task.name}' needs '{need}', which is not a task")
            waiting[need].append(task.name)
    order = [t for t in tasks if not pending[t.name]]
    for task in order:  # grows while it is walked
        for name in waiting[task.name]:
            pending[name] -= 1
            if not pending[name]:
                order.append(by_name[name])
    if len(order) != len(tasks):
        stuck = sorted(name for name, n in pending.items() if n)[:3]
        raise ValueError(f"the tasks form a cycle (through {', '.join(stuck)})")
    return order


def bottom_levels(tasks: Sequence[Task]) -> dict[str, float]:
    """Per task, its hours plus the longest chain of hours through the tasks after it."""
    level: dict[str, float] = {}
    after: dict[str, list[str]] = {t.name: [] for t in tasks}
    for task in tasks:
        for need in set(task.needs):
            after.setdefault(need, []).append(task.name)
    for task in reversed(_topological(tasks)):
        level[task.name] = task.hours + max((level[n] for n in after[task.name]), default=0.0)
    return level


def critical_path(tasks: Sequence[Task]) -> float:
    """Hours of the longest chain of tasks: no number of GPUs finishes sooner."""
    return max(bottom_levels(tasks).values(), default=0.0)


def list_schedule(tasks: Sequence[Task], gpus: int) -> Schedule:
    """Critical-path-first list schedule of `tasks` on `gpus` GPUs (see the module's text)."""
    if gpus < 1:
        raise ValueError(f"gpus must be >= 1, got {gpus}")
    too_big = [t for t in tasks if t.gpus > gpus]
    if too_big:
        raise ValueError(f"task '{too_big[0].name}' needs {too_big[0].gpus} GPUs, more than "
                         f"the {gpus} available")
    level = bottom_levels(tasks)
    by_name = {t.name: t for t in tasks}
    pending = {t.name: len(set(t.needs)) for t in tasks}
    after: dict[str, list[str]] = {t.name: [] for t in tasks}
    for task in tasks:
        for need in set(task.needs):
            after[need].append(task.name)

    def key(task: Task) -> tuple[float, float, str]:
        return (-level[task.name], -task.hours, task.name)

    ready: list[tuple[float, float, str]] = []  # tasks that hold GPUs, by priority
    running: list[tuple[float, str]] = []
    start: dict[str, float] = {}
    now, free, waited = 0.0, gpus, False

    def run(task: Task) -> None:
        start[task.name] = now
        heapq.heappush(running, (now + task.hours, task.name))

    def release(task: Task) -> None:  # it is ready; without GPUs it starts at once
        if task.gpus:
            heapq.heappush(ready, key(task))
        else:
            run(task)

    for task in tasks:
        if not pending[task.name]:
            release(task)
    while ready or running:
        blocked = []
        while ready and free:
            item = heapq.heappop(ready)
            task = by_name[item[2]]
            if task.gpus > free:
                blocked.append(item)  # a smaller ready task may start meanwhile
                continue
            free -= task.gpus
            run(task)
        waited = waited or bool(blocked or ready)
        for item in blocked:
            heapq.heappush(ready, item)
        now, name = heapq.heappop(running)
        free += by_name[name].gpus
        for later in after[name]:
            pending[later] -= 1
            if not pending[later]:
                release(by_name[later])
    return Schedule(gpus, start, now, waited)


def best_schedules(tasks: Sequence[Task], gpu_counts: Iterable[int]) -> dict[int, Schedule]:
    """For each G in `gpu_counts`: the list schedule with the earliest end among those using at
    most G GPUs (the fewest GPUs on ties), so more GPUs never end later. The search stops at
    the critical path, which no schedule beats."""
    counts = sorted(set(gpu_counts))
    if not counts or counts[0] < 1:
        raise ValueError(f"GPU counts must be >= 1, got {counts}")
    fewest = max([1, *(t.gpus for t in tasks)])
    # Forward sums of start times and the backward sums of the critical path round apart by
    # at most ~n ulps (n tasks: 1e-13 relative for 1000); 1e-9 only absorbs that.
    floor = critical_path(tasks) * (1 + 1e-9)
    best: Schedule | None = None
    out: dict[int, Schedule] = {}
    g = fewest
    for count in counts:
        if count < fewest:
            list_schedule(tasks, count)  # raises, naming the task that does not fit
        while g <= count and (best is None or best.makespan > floor):
            trial = list_schedule(tasks, g)
            if best is None or trial.makespan < best.makespan:
                best = trial
            g += 1
        out[count] = best
    return out
