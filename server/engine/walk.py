"""One walk of a workflow's task tree, handed to every reader of a run's outcome.

SpiffWorkflow's get_tasks walks the whole tree each time it is asked (a fired timer used to
walk it about fourteen times), and its iterator pays for bookkeeping on every task. A run's
read-back (snapshot, due times, clocks, service calls, the checks) only needs the tasks in a
definite or finished state, which one walk finds: `TaskWalk` lists them once, in the order
get_tasks gives them, and each reader filters that list by state.

Every filter Plaint asks get_tasks for (WAITING, READY, STARTED, COMPLETED and their
unions) makes SpiffWorkflow's iterator look below a task only when the task is FUTURE or
later, or runs a sub-process; `tasks_of` reproduces exactly that, depth first, with a
sub-process's tasks before the task's own children.
"""

from __future__ import annotations

from collections.abc import Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

MAX_DEPTH = 1000  # get_tasks looks no deeper than this below where it starts
_FUTURE = TaskState.FUTURE


def _subprocess_roots(top: BpmnWorkflow) -> dict[int, Task]:
    """The root task of each sub-process, keyed by the identity of the task that runs it.

    Keyed by object identity, not by task id: hashing a UUID costs a Python call per task.
    """
    subprocesses = top.subprocesses
    if not subprocesses:
        return {}
    owners = (top, *subprocesses.values())
    roots: dict[int, Task] = {}
    for task_id, subprocess in subprocesses.items():
        for owner in owners:
            task = owner.tasks.get(task_id)
            if task is not None:
                roots[id(task)] = subprocess.task_tree
                break
    return roots


def tasks_of(workflow: BpmnWorkflow, root: Task | None = None) -> list[Task]:
    """Every task get_tasks(state=...) looks at for a definite or finished state, in its order.

    `workflow` is the top workflow; `root` where to start (its task tree by default; a
    sub-process's root for that sub-process alone, as its own get_tasks would).
    """
    roots = _subprocess_roots(workflow)
    start = root if root is not None else workflow.task_tree
    # A task's depth is below the number of tasks there are: with fewer than MAX_DEPTH,
    # get_tasks' depth limit cannot be reached and the walk need not count depths.
    total = len(workflow.tasks) + sum(len(s.tasks) for s in workflow.subprocesses.values())
    if total < MAX_DEPTH:
        walked = _tasks_below(start, roots, total)
        if walked is not None:
            return walked
    found: list[Task] = []
    stack: list[tuple[Task, int]] = [(start, 0)]
    push, pop, add = stack.append, stack.pop, found.append
    while stack:
        task, depth = pop()
        add(task)
        if depth >= MAX_DEPTH:
            continue
        sub = roots.get(id(task)) if roots else None
        children = task._children
        if sub is None and (not children or task._state < _FUTURE):
            continue
        below = depth + 1
        if children:
            lookup = task.workflow.tasks.__getitem__
            for child in reversed(children):
                push((lookup(child), below))
        if sub is not None:
            push((sub, below))  # a sub-process's tasks come before the task's children
    return found


def _tasks_below(start: Task, roots: dict[int, Task], total: int) -> list[Task] | None:
    """tasks_of's walk from `start` for a tree of `total` tasks, too few to reach MAX_DEPTH.

    None if the walk meets more tasks than there are (a task reached twice, as in a
    damaged tree): the depth-counting walk then gives what get_tasks gives.
    """
    found: list[Task] = []
    stack = [start]
    pop, push, add, extend = stack.pop, stack.append, found.append, stack.extend
    while stack:
        if len(found) >= total:
            return None
        task = pop()
        add(task)
        sub = roots.get(id(task)) if roots else None
        children = task._children
        if sub is None and (not children or task._state < _FUTURE):
            continue
        if children:
            extend(map(task.workflow.tasks.__getitem__, reversed(children)))
        if sub is not None:
            push(sub)  # a sub-process's tasks come before the task's children
    return found


def _update_waiting_tasks(workflow: Workflow) -> None:
    """Workflow.update_waiting_tasks (run after every task completes), without its iterator.

    Lazy as the iterator is: a task's children are looked up when the walk reaches it and
    a task is updated only if it still waits then, so an update that changes the tree
    (a gateway dropping the branches it did not take) is seen as SpiffWorkflow sees it.
    """
    stack: list[tuple[Task, int]] = [(workflow.task_tree, 0)]
    while stack:
        task, depth = stack.pop()
        children = task._children
        if children and task._state >= _FUTURE and depth < MAX_DEPTH:
            lookup, below = task.workflow.tasks.get, depth + 1
            for child in reversed(children):
                stack.append((lookup(child), below))
        if task._state == TaskState.WAITING:
            task.task_spec._update(task)


def install_waiting_update() -> None:
    """Make SpiffWorkflow update waiting tasks with `_update_waiting_tasks` (once per process).

    Every completed task walks the tree for waiting ones; SpiffWorkflow's TaskIterator
    spent more on its bookkeeping than the updates cost. Sub-processes are workflows too,
    created inside runs, so the method is replaced on the class (as clocks.py does for
    the timer module's clock).
    """
    if Workflow.update_waiting_tasks is not _update_waiting_tasks:
        Workflow.update_waiting_tasks = _update_waiting_tasks  # type: ignore[method-assign]


class TaskWalk:
    """The tasks of a workflow after a run, from one walk; readers filter them by state."""

    __slots__ = ("tasks",)

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.tasks = tasks_of(workflow)

    def having(self, mask: int) -> list[Task]:
        """The tasks whose state is in `mask`, in tree order (as get_tasks(state=mask))."""
        return [task for task in self.tasks if task._state & mask]

    def ready_manual(self) -> list[Task]:
        """The user tasks that are ready (as get_tasks(state=READY, manual=True))."""
        return [task for task in self.tasks
                if task._state == TaskState.READY and task.task_spec.manual]


def do_engine_steps(workflow: BpmnWorkflow, did_complete_task: Callable[[Task], None]) -> None:
    """BpmnWorkflow.do_engine_steps, finding the ready tasks with `tasks_of`.

    The same passes in the same order as SpiffWorkflow's (each pass lists the ready tasks
    before running any, so a list from one walk is what its get_tasks gave).
    """
    while _engine_pass(workflow, did_complete_task):
        pass
    workflow.refresh_timers()


def _engine_pass(workflow: BpmnWorkflow, did_complete_task: Callable[[Task], None]) -> bool:
    """One pass of BpmnWorkflow._do_engine_steps: sub-processes deepest first, then the top."""

    def update(root: Task) -> int:
        count = 0
        # Listed before any runs, as get_tasks did: running one does not drop another.
        for task in [t for t in tasks_of(workflow, root) if t._state == TaskState.READY]:
            if not task.task_spec.manual:
                task.run()
                count += 1
                did_complete_task(task)
        return count

    active = workflow.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
        while update(subprocess.task_tree) > 0:
            pass
        if subprocess.parent_task_id is not None:
            task = workflow.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)
    count = update(workflow.task_tree)
    return count > 0 or len(workflow.get_active_subprocesses()) > len(active)
